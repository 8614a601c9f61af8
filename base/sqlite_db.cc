#include "base/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/private_files.h"

namespace ers {
namespace {

// How long a writer waits for another process's transaction before giving
// up with a clear error.
constexpr int kBusyTimeoutMs = 10000;

}  // namespace

absl::Status SqliteError(sqlite3* db, absl::string_view path,
                         absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("inventory ", path, ": ", what, ": ", sqlite3_errmsg(db)));
}

absl::StatusOr<SqliteDb> OpenSqlite(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("empty database path");
  // The inventory maps internal endpoints: owner-only, created so before
  // SQLite sees it (its -wal and -shm files take the same mode), and never
  // opened through a symbolic link. ":memory:" is SQLite's name for a
  // database without a file: nothing to create.
  if (path != ":memory:") {
    if (absl::Status dirs = EnsureParentDirectory(path); !dirs.ok()) return dirs;
    absl::StatusOr<int> file = OpenPrivateFile(path, O_CREAT);
    if (!file.ok()) return absl::PermissionDeniedError(absl::StrCat("inventory: ", file.status().message()));
    close(*file);
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    // Left by an older release with the umask's mode: made owner-only too.
    struct stat st;
    const std::string side = path + suffix;
    if (lstat(side.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 077) != 0) {
      chmod(side.c_str(), st.st_mode & 0700);
    }
  }
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
  // Savepoints' statement journals and sorts stay in memory: as temporary
  // files they cost a write system call per page.
  absl::Status s = SqlExec(raw, "PRAGMA journal_mode = WAL; PRAGMA temp_store = MEMORY;", path);
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
