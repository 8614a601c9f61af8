#include "base/sqlite_db.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ers {
namespace {

// How long a writer waits for another process's transaction before giving
// up with a clear error.
constexpr int kBusyTimeoutMs = 10000;

absl::Status MakeParents(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot create directory ", dir, ": ", strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SqliteError(sqlite3* db, absl::string_view path,
                         absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("inventory ", path, ": ", what, ": ", sqlite3_errmsg(db)));
}

absl::StatusOr<SqliteDb> OpenSqlite(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("empty database path");
  absl::Status dirs = MakeParents(path);
  if (!dirs.ok()) return dirs;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  SqliteDb db(raw);
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(absl::StrCat(
        "cannot open inventory ", path, ": ",
        raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  absl::Status s = SqlExec(raw, "PRAGMA journal_mode = WAL;", path);
  if (!s.ok()) return s;
  return db;
}

absl::Status SqlExec(sqlite3* db, const char* sql, absl::string_view path) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return absl::InternalError(absl::StrCat("inventory ", path, ": ", text));
  }
  return absl::OkStatus();
}

absl::StatusOr<Stmt> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    return absl::InternalError(
        absl::StrCat("SQL error: ", sqlite3_errmsg(db), " in: ", sql));
  }
  return Stmt(raw);
}

absl::Status SqlQuery(sqlite3* db, absl::string_view path, absl::string_view what,
                      const char* sql, std::initializer_list<SqlValue> params,
                      const std::function<void(sqlite3_stmt*)>& row) {
  absl::StatusOr<Stmt> st = Prepare(db, sql);
  if (!st.ok()) return st.status();
  int i = 0;
  for (const SqlValue& v : params) {
    ++i;
    switch (v.kind) {
      case SqlValue::Kind::kInteger:
        BindInt(st->get(), i, v.integer);
        break;
      case SqlValue::Kind::kText:
        BindText(st->get(), i, v.text);
        break;
      case SqlValue::Kind::kBlob:
        BindBlob(st->get(), i, v.text);
        break;
    }
  }
  int rc;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
    if (row) row(st->get());
  }
  if (rc != SQLITE_DONE) return SqliteError(db, path, what);
  return absl::OkStatus();
}

}  // namespace ers
