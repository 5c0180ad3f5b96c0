// The ws and sql steps and the databases they use.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <openssl/evp.h>

#include "common/units.h"
#include "scenario/data_file.h"
#include "scenario/loader_parts.h"

namespace loadcell::loading {

WsStep Loader::Ws(const Node& n, const std::string& path) {
  RequireMap(n, path);
  CheckKeys(n, path, {"name", "url", "headers", "subprotocols", "timeout", "max_message_size", "tags", "steps"});
  WsStep w;
  if (!n["url"]) Fail(n, path, "missing `url`");
  w.url_text = String(n["url"], Join(path, "url"));
  w.url = CompileText(n["url"], Join(path, "url"), w.url_text);
  std::string literal = w.url.LiteralPrefix();
  bool absolute = literal.find("://") != std::string::npos;
  if (absolute && !literal.starts_with("ws://") && !literal.starts_with("wss://")) {
    Fail(n["url"], Join(path, "url"),
         "a WebSocket URL starts with ws:// or wss:// (or is a path on the test's target)");
  }
  if (!absolute && !w.url_text.starts_with("/") && !w.url_text.starts_with("{{")) {
    Fail(n["url"], Join(path, "url"), "expected ws://host/path, wss://host/path or a path starting with /");
  }
  if (!absolute && target_->empty()) Fail(n["url"], Join(path, "url"), "a relative URL needs the test's `target`");
  if (absolute && literal.find('/', literal.find("://") + 3) == std::string::npos && !w.url.is_literal()) {
    Fail(n["url"], Join(path, "url"),
         "the scheme and host of a WebSocket URL cannot be templated (the connection is set up once per origin)");
  }
  w.name = n["name"] ? String(n["name"], Join(path, "name")) : n["url"].Scalar();
  if (n["headers"]) w.headers = Pairs(n["headers"], Join(path, "headers"));
  if (Node sp = n["subprotocols"]) {
    RequireSeq(sp, Join(path, "subprotocols"));
    for (size_t i = 0; i < sp.size(); ++i)
      w.subprotocols.push_back(String(sp[i], Index(Join(path, "subprotocols"), i)));
  }
  if (n["timeout"]) w.timeout = Duration(n["timeout"], Join(path, "timeout"), false);
  if (n["max_message_size"]) {
    auto sz = ParseSize(String(n["max_message_size"], Join(path, "max_message_size")));
    if (!sz.ok() || *sz <= 0)
      Fail(n["max_message_size"], Join(path, "max_message_size"), "expected a size such as 64KB or 16MB");
    w.max_message = static_cast<size_t>(*sz);
  }
  if (Node tags = n["tags"]) {
    RequireMap(tags, Join(path, "tags"));
    for (const auto& kv : tags)
      w.tags[kv.first.Scalar()] = String(kv.second, Join(Join(path, "tags"), kv.first.Scalar()));
  }
  if (!n["steps"]) Fail(n, path, "missing `steps` (send, receive, think, loop, close)");
  w.steps = WsActionList(n["steps"], Join(path, "steps"));
  return w;
}

WsActions Loader::WsActionList(const Node& n, const std::string& path) {
  RequireSeq(n, path);
  WsActions out;
  for (size_t i = 0; i < n.size(); ++i) {
    std::string ap = Index(path, i);
    Node a = n[i];
    RequireMap(a, ap);
    static const std::vector<std::string> kKinds = {"send", "receive", "think", "loop", "close"};
    CheckKeys(a, ap, kKinds, " (inside `ws`, a step is one of send, receive, think, loop, close)");
    if (a.size() != 1) Fail(a, ap, "a step has one kind");
    std::string kind = a.begin()->first.Scalar();
    Node body = a[kind];
    std::string bp = Join(ap, kind);
    WsAction act;
    act.pos = PosOf(a);
    if (kind == "send") {
      WsSend s;
      if (body.IsMap()) {
        CheckKeys(body, bp, {"text", "binary", "fragment"});
        if (body["fragment"]) {
          auto sz = ParseSize(String(body["fragment"], Join(bp, "fragment")));
          if (!sz.ok() || *sz <= 0) Fail(body["fragment"], Join(bp, "fragment"), "expected a size such as 1KB");
          s.fragment = static_cast<size_t>(*sz);
        }
        if (body["text"] && body["binary"]) Fail(body, bp, "use either `text` or `binary`");
        if (body["binary"]) {
          s.binary = true;
          s.bytes = Base64Decode(body["binary"], Join(bp, "binary"));
        } else if (body["text"]) {
          s.text = Compile(body["text"], Join(bp, "text"));
        } else {
          Fail(body, bp, "missing `text` or `binary`");
        }
      } else {
        s.text = Compile(body, bp);
      }
      act.body = std::move(s);
    } else if (kind == "receive") {
      WsReceive r;
      if (body.IsMap()) {
        CheckKeys(body, bp, {"match", "timeout"});
        if (body["match"]) r.match = Compile(body["match"], Join(bp, "match"));
        if (body["timeout"]) r.timeout = Duration(body["timeout"], Join(bp, "timeout"), false);
      } else if (!body.IsNull()) {
        r.match = Compile(body, bp);
      }
      act.body = std::move(r);
    } else if (kind == "think") {
      act.body = Think(body, bp);
    } else if (kind == "loop") {
      RequireMap(body, bp);
      CheckKeys(body, bp, {"count", "steps"});
      if (!body["count"]) Fail(body, bp, "a loop inside `ws` needs `count`");
      if (!body["steps"]) Fail(body, bp, "missing `steps`");
      WsLoop l;
      l.count = Int(body["count"], Join(bp, "count"), 0);
      l.steps = WsActionList(body["steps"], Join(bp, "steps"));
      act.body = std::move(l);
    } else {
      WsClose c;
      if (body.IsMap()) {
        CheckKeys(body, bp, {"code", "reason"});
        if (body["code"]) {
          int64_t code = Int(body["code"], Join(bp, "code"), 1000);
          if (!(code == 1000 || (code >= 3000 && code <= 4999))) {
            Fail(body["code"], Join(bp, "code"), "a client closes with 1000 or an application code 3000-4999");
          }
          c.code = static_cast<uint16_t>(code);
        }
        if (body["reason"]) {
          c.reason = String(body["reason"], Join(bp, "reason"));
          if (c.reason.size() > 123) Fail(body["reason"], Join(bp, "reason"), "a close reason is at most 123 bytes");
        }
      } else if (!body.IsNull() && !(body.IsScalar() && (body.Scalar() == "true" || body.Scalar().empty()))) {
        Fail(body, bp, "expected `close: {}`, `close: true` or `close: {code, reason}`");
      }
      act.body = std::move(c);
    }
    out.push_back(std::move(act));
  }
  return out;
}

void Loader::LoadDatabases(const Node& n, TestDefinition& def) {
  RequireMap(n, "databases");
  for (const auto& kv : n) {
    std::string name = kv.first.Scalar();
    std::string path = Join("databases", name);
    Node d = kv.second;
    RequireMap(d, path);
    CheckKeys(d, path, {"url", "pool"});
    if (!d["url"]) Fail(d, path, "missing `url` (postgres://user:password@host:port/database)");
    DatabaseDef db;
    db.pos = PosOf(kv.first);
    db.name = name;
    db.url = String(d["url"], Join(path, "url"));
    if (!db.url.starts_with("postgres://") && !db.url.starts_with("postgresql://")) {
      Fail(d["url"], Join(path, "url"), "expected a postgres:// or postgresql:// URL");
    }
    if (d["pool"]) db.pool = Int(d["pool"], Join(path, "pool"), 1);
    if (std::string pw = UrlPassword(db.url); !pw.empty()) def.secrets.push_back(pw);
    def.databases.push_back(std::move(db));
  }
}

SqlStep Loader::Sql(const Node& n, const std::string& path) {
  RequireMap(n, path);
  CheckKeys(n, path, {"name", "db", "query", "params", "timeout", "tags", "capture", "check"});
  SqlStep q;
  if (!n["db"]) Fail(n, path, "missing `db`: a name under the top-level `databases`");
  q.db = String(n["db"], Join(path, "db"));
  for (size_t i = 0; i < databases_->size(); ++i) {
    if ((*databases_)[i].name == q.db) q.db_index = static_cast<int>(i);
  }
  if (q.db_index < 0) {
    std::vector<std::string> names;
    for (const DatabaseDef& d : *databases_) names.push_back(d.name);
    std::string s = Suggest(q.db, names);
    Fail(n["db"], Join(path, "db"),
         fmt::format("no database `{}` under `databases`{}", q.db,
                     s.empty() ? "" : fmt::format(" (did you mean `{}`?)", s)));
  }
  if (!n["query"]) Fail(n, path, "missing `query`");
  q.query = String(n["query"], Join(path, "query"));
  if (q.query.find("{{") != std::string::npos) {
    Fail(n["query"], Join(path, "query"),
         "a query is prepared once: pass values as $1, $2 ... with `params`, not templates");
  }
  q.name = n["name"] ? String(n["name"], Join(path, "name")) : q.query;
  if (Node ps = n["params"]) {
    RequireSeq(ps, Join(path, "params"));
    for (size_t i = 0; i < ps.size(); ++i) q.params.push_back(Compile(ps[i], Index(Join(path, "params"), i)));
  }
  // $N placeholders must have a parameter each.
  int highest = 0;
  for (size_t i = 0; i + 1 < q.query.size(); ++i) {
    if (q.query[i] != '$' || !std::isdigit(static_cast<unsigned char>(q.query[i + 1]))) continue;
    highest = std::max(highest, std::atoi(q.query.c_str() + i + 1));
  }
  if (static_cast<size_t>(highest) != q.params.size()) {
    Fail(n["params"] ? n["params"] : n["query"], Join(path, n["params"] ? "params" : "query"),
         fmt::format("the query uses ${} parameters but `params` has {}", highest, q.params.size()));
  }
  if (n["timeout"]) q.timeout = Duration(n["timeout"], Join(path, "timeout"), false);
  if (Node tags = n["tags"]) {
    RequireMap(tags, Join(path, "tags"));
    for (const auto& kv : tags)
      q.tags[kv.first.Scalar()] = String(kv.second, Join(Join(path, "tags"), kv.first.Scalar()));
  }
  if (Node c = n["capture"]) {
    RequireSeq(c, Join(path, "capture"));
    for (size_t i = 0; i < c.size(); ++i) {
      std::string cp = Index(Join(path, "capture"), i);
      RequireMap(c[i], cp);
      CheckKeys(c[i], cp, {"column", "as"});
      if (!c[i]["column"] || !c[i]["as"]) Fail(c[i], cp, "a SQL capture is {column: NAME, as: VARIABLE} (first row)");
      q.captures.push_back({String(c[i]["column"], Join(cp, "column")), String(c[i]["as"], Join(cp, "as"))});
    }
  }
  if (Node c = n["check"]) {
    RequireSeq(c, Join(path, "check"));
    for (size_t i = 0; i < c.size(); ++i) {
      std::string cp = Index(Join(path, "check"), i);
      RequireMap(c[i], cp);
      CheckKeys(c[i], cp, {"rows", "max_duration", "name"});
      SqlCheck ck;
      if (c[i]["rows"] && c[i]["max_duration"]) Fail(c[i], cp, "a check has exactly one of rows, max_duration");
      if (c[i]["rows"]) {
        ck.rows = Int(c[i]["rows"], Join(cp, "rows"), 0);
        ck.label = fmt::format("rows == {}", ck.rows);
      } else if (c[i]["max_duration"]) {
        ck.max_duration = Duration(c[i]["max_duration"], Join(cp, "max_duration"), false);
        ck.label = fmt::format("duration <= {}", c[i]["max_duration"].Scalar());
      } else {
        Fail(c[i], cp, "a SQL check is {rows: N} or {max_duration: D}");
      }
      if (c[i]["name"]) ck.label = String(c[i]["name"], Join(cp, "name"));
      q.checks.push_back(std::move(ck));
    }
  }
  return q;
}

}  // namespace loadcell::loading
