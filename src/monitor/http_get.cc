#include "monitor/http_get.h"

#include <curl/curl.h>

#include <mutex>

#include <fmt/format.h>

namespace loadcell {
namespace {

struct Body {
  std::string text;
  size_t max = 0;
  bool too_big = false;
};

size_t Append(char* data, size_t size, size_t n, void* user) {
  auto* b = static_cast<Body*>(user);
  size_t bytes = size * n;
  if (b->text.size() + bytes > b->max) {
    b->too_big = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  b->text.append(data, bytes);
  return bytes;
}

}  // namespace

HttpGetter::HttpGetter(HttpGetOptions options) : options_(std::move(options)) {
  static std::once_flag global;
  std::call_once(global, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

HttpGetter::~HttpGetter() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<HttpGetter::Answer> HttpGetter::Get(const std::string& url) { return Perform(url, nullptr, ""); }

Result<HttpGetter::Answer> HttpGetter::Post(const std::string& url, const std::string& body,
                                            const std::string& content_type) {
  return Perform(url, &body, content_type);
}

Result<HttpGetter::Answer> HttpGetter::Perform(const std::string& url, const std::string* post,
                                               const std::string& content_type) {
  auto* c = static_cast<CURL*>(curl_);
  if (c == nullptr) return Error::Io("cannot start an HTTP client");
  Body body{{}, options_.max_bytes, false};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_slist* headers = nullptr;
  if (post != nullptr) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, post->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post->size()));
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout / kMilli));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // gzip and friends, as Prometheus scrapes
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  if (options_.insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options_.bearer_token.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
    curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, options_.bearer_token.c_str());
  } else if (!options_.basic_user.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.basic_user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.basic_password.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  if (body.too_big) return Error::Io(fmt::format("the answer is larger than {} bytes", options_.max_bytes));
  if (rc != CURLE_OK) return Error::Io(curl_easy_strerror(rc));
  Answer a;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
  a.body = std::move(body.text);
  return a;
}

Result<std::string> HttpGetter::GetBody(const std::string& url) {
  auto a = Get(url);
  if (!a.ok()) return a.error();
  if (a->status < 200 || a->status > 299) return Error::Io(fmt::format("HTTP status {}", a->status));
  return std::move(a->body);
}

}  // namespace loadcell
