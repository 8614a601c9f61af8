// config_store.h: what `ers discover` configured, kept in the inventory's
// SQLite file (inventory.h owns the connection) so that consecutive calls add servers and IP ranges or
// re-configure their ports, and `ers scan` (often from cron) reads it back.
#ifndef ERS_INVENTORY_CONFIG_STORE_H_
#define ERS_INVENTORY_CONFIG_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/sqlite_db.h"
#include "scanner/port_list.h"

namespace ers {

// EntryKind says how a configured entry's spec is read.
enum class EntryKind { kServer, kIpRange };

// DiscoverEntry is one configured server (host name or IP literal) or IP
// range, in canonical text, with its ports.
struct DiscoverEntry {
  EntryKind kind = EntryKind::kServer;
  std::string spec;
  PortList ports;
  int64_t added_unix = 0;
  int64_t updated_unix = 0;
};

// DiscoverChange tells what one Upsert did.
enum class DiscoverChange { kAdded, kPortsChanged, kUnchanged };

// ConfigStore is the discover configuration in an SQLite database. It is not
// thread-safe; one process may hold several, SQLite serialises writers.
class ConfigStore {
 public:
  // Attach creates (if needed) the configuration tables in |db|, which the
  // Inventory owns and which must outlive the store; |path| names it in
  // errors. Use Inventory::Open(path)->config() to get one.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ConfigStore>> Attach(
      sqlite3* db, const std::string& path);

  ~ConfigStore() = default;
  ConfigStore(const ConfigStore&) = delete;
  ConfigStore& operator=(const ConfigStore&) = delete;

  // Begin, Commit and Rollback group changes into one transaction, so a
  // discover call applies all of its entries or none.
  [[nodiscard]] absl::Status Begin();
  [[nodiscard]] absl::Status Commit();
  void Rollback();

  // Upsert adds the entry (with |ports|, or the default ports when none are
  // given) or, when it exists and |ports| is given, sets its ports.
  [[nodiscard]] absl::StatusOr<DiscoverChange> Upsert(
      EntryKind kind, absl::string_view spec,
      const std::optional<PortList>& ports);

  // SetAllPorts sets the ports of every entry; it returns how many changed.
  [[nodiscard]] absl::StatusOr<int> SetAllPorts(const PortList& ports);

  // Remove deletes the entry with |spec| of either kind; it returns false
  // when there is none.
  [[nodiscard]] absl::StatusOr<bool> Remove(absl::string_view spec);

  // List returns every entry: servers first, then IP ranges, each in the
  // order added.
  [[nodiscard]] absl::StatusOr<std::vector<DiscoverEntry>> List();

  // GetSetting returns a stored setting, or nullopt when unset; SetSetting
  // stores one, and ClearSetting removes it.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> GetSetting(
      absl::string_view key);
  [[nodiscard]] absl::Status SetSetting(absl::string_view key,
                                        absl::string_view value);
  [[nodiscard]] absl::Status ClearSetting(absl::string_view key);

  const std::string& path() const { return path_; }

 private:
  ConfigStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  absl::Status Exec(const char* sql);
  // Run runs one statement with |params| (base/sqlite_db.h's SqlQuery).
  absl::Status Run(const char* sql, std::initializer_list<SqlValue> params);

  sqlite3* db_;  // owned by the Inventory
  std::string path_;
};

// DefaultDatabasePath returns where the inventory lives when no --db flag is
// given: $ERS_DB, else $XDG_DATA_HOME/ers/ers.db, else
// $HOME/.local/share/ers/ers.db. It fails when none of these is set.
[[nodiscard]] absl::StatusOr<std::string> DefaultDatabasePath();

}  // namespace ers

#endif  // ERS_INVENTORY_CONFIG_STORE_H_
