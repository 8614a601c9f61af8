#include "cli/config_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"

namespace ers {
namespace {

// Schema version 1. Later versions migrate from here.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS discover_entries (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('server', 'ips')),
  spec TEXT NOT NULL UNIQUE,
  ports TEXT NOT NULL,
  added_unix INTEGER NOT NULL,
  updated_unix INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
PRAGMA user_version = 1;
)sql";

// How long a writer waits for another process's transaction (a scan holding
// the database) before giving up with a clear error.
constexpr int kBusyTimeoutMs = 10000;

struct FinalizeStmt {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;

const char* KindName(EntryKind kind) {
  return kind == EntryKind::kServer ? "server" : "ips";
}

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

void ConfigStore::CloseDb::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

absl::StatusOr<std::unique_ptr<ConfigStore>> ConfigStore::Open(
    const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("empty database path");
  absl::Status dirs = MakeParents(path);
  if (!dirs.ok()) return dirs;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::unique_ptr<ConfigStore> store(new ConfigStore(raw, path));
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(absl::StrCat(
        "cannot open inventory ", path, ": ",
        raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  absl::Status s = store->Exec("PRAGMA journal_mode = WAL;");
  if (s.ok()) s = store->Exec(kSchema);
  if (!s.ok()) return s;
  return store;
}

absl::Status ConfigStore::Error(absl::string_view what) const {
  return absl::InternalError(absl::StrCat("inventory ", path_, ": ", what,
                                          ": ", sqlite3_errmsg(db_.get())));
}

absl::Status ConfigStore::Exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return absl::InternalError(
        absl::StrCat("inventory ", path_, ": ", text));
  }
  return absl::OkStatus();
}

absl::Status ConfigStore::Begin() { return Exec("BEGIN IMMEDIATE;"); }
absl::Status ConfigStore::Commit() { return Exec("COMMIT;"); }
void ConfigStore::Rollback() { (void)Exec("ROLLBACK;"); }

absl::StatusOr<DiscoverChange> ConfigStore::Upsert(
    EntryKind kind, absl::string_view spec,
    const std::optional<PortList>& ports) {
  const int64_t now = time(nullptr);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(),
                         "SELECT kind, ports FROM discover_entries "
                         "WHERE spec = ?1",
                         -1, &raw, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  Stmt select(raw);
  sqlite3_bind_text(raw, 1, spec.data(), static_cast<int>(spec.size()),
                    SQLITE_TRANSIENT);
  int rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) {
    std::string old_ports =
        reinterpret_cast<const char*>(sqlite3_column_text(raw, 1));
    if (!ports.has_value() || ports->ToString() == old_ports) {
      return DiscoverChange::kUnchanged;
    }
    select.reset();
    if (sqlite3_prepare_v2(db_.get(),
                           "UPDATE discover_entries SET ports = ?1, "
                           "updated_unix = ?2 WHERE spec = ?3",
                           -1, &raw, nullptr) != SQLITE_OK) {
      return Error("prepare");
    }
    Stmt update(raw);
    std::string text = ports->ToString();
    sqlite3_bind_text(raw, 1, text.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(raw, 2, now);
    sqlite3_bind_text(raw, 3, spec.data(), static_cast<int>(spec.size()),
                      SQLITE_TRANSIENT);
    if (sqlite3_step(raw) != SQLITE_DONE) return Error("update");
    return DiscoverChange::kPortsChanged;
  }
  if (rc != SQLITE_DONE) return Error("select");
  select.reset();
  if (sqlite3_prepare_v2(db_.get(),
                         "INSERT INTO discover_entries "
                         "(kind, spec, ports, added_unix, updated_unix) "
                         "VALUES (?1, ?2, ?3, ?4, ?4)",
                         -1, &raw, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  Stmt insert(raw);
  std::string text =
      ports.has_value() ? ports->ToString() : PortList::Defaults().ToString();
  sqlite3_bind_text(raw, 1, KindName(kind), -1, SQLITE_STATIC);
  sqlite3_bind_text(raw, 2, spec.data(), static_cast<int>(spec.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(raw, 3, text.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(raw, 4, now);
  if (sqlite3_step(raw) != SQLITE_DONE) return Error("insert");
  return DiscoverChange::kAdded;
}

absl::StatusOr<int> ConfigStore::SetAllPorts(const PortList& ports) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(),
                         "UPDATE discover_entries SET ports = ?1, "
                         "updated_unix = ?2 WHERE ports != ?1",
                         -1, &raw, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  Stmt update(raw);
  std::string text = ports.ToString();
  sqlite3_bind_text(raw, 1, text.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(raw, 2, time(nullptr));
  if (sqlite3_step(raw) != SQLITE_DONE) return Error("update");
  return sqlite3_changes(db_.get());
}

absl::StatusOr<bool> ConfigStore::Remove(absl::string_view spec) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(),
                         "DELETE FROM discover_entries WHERE spec = ?1", -1,
                         &raw, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  Stmt del(raw);
  sqlite3_bind_text(raw, 1, spec.data(), static_cast<int>(spec.size()),
                    SQLITE_TRANSIENT);
  if (sqlite3_step(raw) != SQLITE_DONE) return Error("delete");
  return sqlite3_changes(db_.get()) > 0;
}

absl::StatusOr<std::vector<DiscoverEntry>> ConfigStore::List() {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(),
                         "SELECT kind, spec, ports, added_unix, updated_unix "
                         "FROM discover_entries "
                         "ORDER BY kind = 'ips', id",
                         -1, &raw, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  Stmt select(raw);
  std::vector<DiscoverEntry> out;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    DiscoverEntry e;
    absl::string_view kind =
        reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
    e.kind = kind == "ips" ? EntryKind::kIpRange : EntryKind::kServer;
    e.spec = reinterpret_cast<const char*>(sqlite3_column_text(raw, 1));
    absl::string_view ports =
        reinterpret_cast<const char*>(sqlite3_column_text(raw, 2));
    absl::StatusOr<PortList> parsed = PortList::Parse(ports);
    if (!parsed.ok()) {
      return absl::DataLossError(absl::StrCat(
          "inventory ", path_, ": entry ", e.spec, " has unreadable ports \"",
          ports, "\": ", parsed.status().message()));
    }
    e.ports = *std::move(parsed);
    e.added_unix = sqlite3_column_int64(raw, 3);
    e.updated_unix = sqlite3_column_int64(raw, 4);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return Error("list");
  return out;
}

absl::StatusOr<std::optional<std::string>> ConfigStore::GetSetting(
    absl::string_view key) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), "SELECT value FROM settings WHERE key = ?1",
                         -1, &raw, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  Stmt select(raw);
  sqlite3_bind_text(raw, 1, key.data(), static_cast<int>(key.size()),
                    SQLITE_TRANSIENT);
  int rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) {
    return std::optional<std::string>(
        reinterpret_cast<const char*>(sqlite3_column_text(raw, 0)));
  }
  if (rc != SQLITE_DONE) return Error("get setting");
  return std::optional<std::string>();
}

absl::Status ConfigStore::SetSetting(absl::string_view key,
                                     absl::string_view value) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(),
                         "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                         "ON CONFLICT(key) DO UPDATE SET value = ?2",
                         -1, &raw, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  Stmt upsert(raw);
  sqlite3_bind_text(raw, 1, key.data(), static_cast<int>(key.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(raw, 2, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  if (sqlite3_step(raw) != SQLITE_DONE) return Error("set setting");
  return absl::OkStatus();
}

absl::Status ConfigStore::ClearSetting(absl::string_view key) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), "DELETE FROM settings WHERE key = ?1", -1,
                         &raw, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  Stmt del(raw);
  sqlite3_bind_text(raw, 1, key.data(), static_cast<int>(key.size()),
                    SQLITE_TRANSIENT);
  if (sqlite3_step(raw) != SQLITE_DONE) return Error("clear setting");
  return absl::OkStatus();
}

absl::StatusOr<std::string> DefaultDatabasePath() {
  if (const char* env = getenv("ERS_DB"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  if (const char* xdg = getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return absl::StrCat(xdg, "/ers/ers.db");
  }
  if (const char* home = getenv("HOME"); home != nullptr && *home == '/') {
    return absl::StrCat(home, "/.local/share/ers/ers.db");
  }
  return absl::FailedPreconditionError(
      "no inventory location: set --db, ERS_DB or HOME");
}

}  // namespace ers
