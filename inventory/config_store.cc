#include "inventory/config_store.h"

#include <cstdlib>
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
)sql";

const char* KindName(EntryKind kind) {
  return kind == EntryKind::kServer ? "server" : "ips";
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConfigStore>> ConfigStore::Attach(
    sqlite3* db, const std::string& path) {
  std::unique_ptr<ConfigStore> store(new ConfigStore(db, path));
  absl::Status s = store->Exec(kSchema);
  if (!s.ok()) return s;
  return store;
}

absl::Status ConfigStore::Exec(const char* sql) {
  return SqlExec(db_, sql, path_);
}

absl::Status ConfigStore::Run(const char* sql, std::initializer_list<SqlValue> params) {
  return SqlQuery(db_, path_, "write", sql, params, nullptr);
}

absl::Status ConfigStore::Begin() { return Exec("BEGIN IMMEDIATE;"); }
absl::Status ConfigStore::Commit() { return Exec("COMMIT;"); }
void ConfigStore::Rollback() { (void)Exec("ROLLBACK;"); }

absl::StatusOr<DiscoverChange> ConfigStore::Upsert(
    EntryKind kind, absl::string_view spec,
    const std::optional<PortList>& ports) {
  const int64_t now = time(nullptr);
  std::optional<std::string> old_ports;
  absl::Status s = SqlQuery(db_, path_, "select", "SELECT ports FROM discover_entries WHERE spec = ?1",
                            {spec}, [&](sqlite3_stmt* st) { old_ports = ColumnText(st, 0); });
  if (!s.ok()) return s;
  if (old_ports.has_value()) {
    if (!ports.has_value() || ports->ToString() == *old_ports) {
      return DiscoverChange::kUnchanged;
    }
    s = Run("UPDATE discover_entries SET ports = ?1, updated_unix = ?2 WHERE spec = ?3",
            {ports->ToString(), now, spec});
    if (!s.ok()) return s;
    return DiscoverChange::kPortsChanged;
  }
  s = Run("INSERT INTO discover_entries (kind, spec, ports, added_unix, "
          "updated_unix) VALUES (?1, ?2, ?3, ?4, ?4)",
          {KindName(kind), spec,
           ports.has_value() ? ports->ToString() : PortList::Defaults().ToString(), now});
  if (!s.ok()) return s;
  return DiscoverChange::kAdded;
}

absl::StatusOr<int> ConfigStore::SetAllPorts(const PortList& ports) {
  absl::Status s = Run(
      "UPDATE discover_entries SET ports = ?1, updated_unix = ?2 WHERE ports != ?1",
      {ports.ToString(), static_cast<int64_t>(time(nullptr))});
  if (!s.ok()) return s;
  return sqlite3_changes(db_);
}

absl::StatusOr<bool> ConfigStore::Remove(absl::string_view spec) {
  absl::Status s = Run("DELETE FROM discover_entries WHERE spec = ?1", {spec});
  if (!s.ok()) return s;
  return sqlite3_changes(db_) > 0;
}

absl::StatusOr<std::vector<DiscoverEntry>> ConfigStore::List() {
  std::vector<DiscoverEntry> out;
  absl::Status bad;
  absl::Status s = SqlQuery(
      db_, path_, "list",
      "SELECT kind, spec, ports, added_unix, updated_unix "
      "FROM discover_entries ORDER BY kind = 'ips', id",
      {}, [&](sqlite3_stmt* st) {
        DiscoverEntry e;
        e.kind = ColumnText(st, 0) == "ips" ? EntryKind::kIpRange : EntryKind::kServer;
        e.spec = ColumnText(st, 1);
        std::string ports = ColumnText(st, 2);
        absl::StatusOr<PortList> parsed = PortList::Parse(ports);
        if (!parsed.ok()) {
          if (bad.ok()) {
            bad = absl::DataLossError(absl::StrCat(
                "inventory ", path_, ": entry ", e.spec, " has unreadable ports \"",
                ports, "\": ", parsed.status().message()));
          }
          return;
        }
        e.ports = *std::move(parsed);
        e.added_unix = sqlite3_column_int64(st, 3);
        e.updated_unix = sqlite3_column_int64(st, 4);
        out.push_back(std::move(e));
      });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return out;
}

absl::StatusOr<std::optional<std::string>> ConfigStore::GetSetting(
    absl::string_view key) {
  std::optional<std::string> value;
  absl::Status s = SqlQuery(db_, path_, "get setting", "SELECT value FROM settings WHERE key = ?1",
                            {key}, [&](sqlite3_stmt* st) { value = ColumnText(st, 0); });
  if (!s.ok()) return s;
  return value;
}

absl::Status ConfigStore::SetSetting(absl::string_view key,
                                     absl::string_view value) {
  return Run(
      "INSERT INTO settings (key, value) VALUES (?1, ?2) "
      "ON CONFLICT(key) DO UPDATE SET value = ?2",
      {key, value});
}

absl::Status ConfigStore::ClearSetting(absl::string_view key) {
  return Run("DELETE FROM settings WHERE key = ?1", {key});
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
