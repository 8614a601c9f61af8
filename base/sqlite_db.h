// sqlite_db.h: small RAII helpers over SQLite's C API, shared by the
// configuration store and the inventory (one database file).
#ifndef ERS_BASE_SQLITE_DB_H_
#define ERS_BASE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ers {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// OpenSqlite opens (creating) the database at |path|, creating its parent
// directories with mode 0700, with a busy timeout and WAL journaling (so a
// killed writer never leaves a half-written database).
[[nodiscard]] absl::StatusOr<SqliteDb> OpenSqlite(const std::string& path);

// SqlExec runs |sql| (any number of statements). Errors name |path|.
[[nodiscard]] absl::Status SqlExec(sqlite3* db, const char* sql,
                                   absl::string_view path);

// Prepare compiles one statement.
[[nodiscard]] absl::StatusOr<Stmt> Prepare(sqlite3* db, const char* sql);

// Bind helpers (1-based parameter index). Text and blobs are copied.
inline void BindText(sqlite3_stmt* s, int i, absl::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
inline void BindBlob(sqlite3_stmt* s, int i, absl::string_view v) {
  sqlite3_bind_blob(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
inline void BindInt(sqlite3_stmt* s, int i, int64_t v) { sqlite3_bind_int64(s, i, v); }

// ColumnText returns a text column ("" for NULL).
inline std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t != nullptr ? reinterpret_cast<const char*>(t) : "";
}
inline std::string ColumnBlob(sqlite3_stmt* s, int i) {
  const void* b = sqlite3_column_blob(s, i);
  return b != nullptr ? std::string(static_cast<const char*>(b),
                                    static_cast<size_t>(sqlite3_column_bytes(s, i)))
                      : "";
}

// SqlValue is a parameter bound to a statement: an integer, text, or (with
// SqlValue::Blob) bytes. Text and bytes are views: they must outlive the
// call they are passed to.
struct SqlValue {
  enum class Kind : uint8_t { kInteger, kText, kBlob };
  SqlValue(int64_t v) : kind(Kind::kInteger), integer(v) {}  // NOLINT: implicit
  SqlValue(long long v) : kind(Kind::kInteger), integer(v) {}  // NOLINT: implicit
  SqlValue(int v) : kind(Kind::kInteger), integer(v) {}      // NOLINT: implicit
  SqlValue(absl::string_view v) : kind(Kind::kText), text(v) {}  // NOLINT
  SqlValue(const char* v) : kind(Kind::kText), text(v) {}        // NOLINT
  SqlValue(const std::string& v) : kind(Kind::kText), text(v) {}  // NOLINT
  static SqlValue Blob(absl::string_view bytes) {
    SqlValue v(bytes);
    v.kind = Kind::kBlob;
    return v;
  }
  Kind kind;
  int64_t integer = 0;
  absl::string_view text;
};

// SqlQuery prepares |sql|, binds |params| to ?1, ?2, ..., and steps it to
// the end, calling |row| for each result row. Errors name |path| and
// |what|. The one prepare/bind/step loop of the code base's queries.
[[nodiscard]] absl::Status SqlQuery(sqlite3* db, absl::string_view path,
                                    absl::string_view what, const char* sql,
                                    std::initializer_list<SqlValue> params,
                                    const std::function<void(sqlite3_stmt*)>& row);

// SqliteError turns the connection's last error into a status naming |path|
// and |what| failed.
absl::Status SqliteError(sqlite3* db, absl::string_view path, absl::string_view what);

}  // namespace ers

#endif  // ERS_BASE_SQLITE_DB_H_
