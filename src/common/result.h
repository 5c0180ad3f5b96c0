// Errors as values (after LevelDB's Status): a small error kind plus a message, and
// Result<T> carrying either a value or an Error. Exceptions are used only at the edges
// (argument parsing, main).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace loadcell {

enum class ErrorKind {
  kInvalidArgument,  // bad user input: flags, durations, URLs (exit 104)
  kIo,               // file or socket operations on the host
  kResolve,          // DNS / address resolution
  kProtocol,         // a peer sent something we cannot accept
  kInternal,
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;

  static Error InvalidArgument(std::string m) { return {ErrorKind::kInvalidArgument, std::move(m)}; }
  static Error Io(std::string m) { return {ErrorKind::kIo, std::move(m)}; }
  static Error Resolve(std::string m) { return {ErrorKind::kResolve, std::move(m)}; }
  static Error Protocol(std::string m) { return {ErrorKind::kProtocol, std::move(m)}; }
  static Error Internal(std::string m) { return {ErrorKind::kInternal, std::move(m)}; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<Error>(v_); }

 private:
  std::variant<T, Error> v_;
};

// For operations that produce nothing but can fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  static Status Ok() { return {}; }
  bool ok() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace loadcell
