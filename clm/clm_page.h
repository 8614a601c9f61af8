// clm_page.h: the reference CLM's page for administrators (GET /): its
// clients (name, kind, last contact, batches, sightings, certificates) and
// the stored inventory with each sighting's findings. Rendered on the
// server from the same store queries as the API; no script, no request
// leaves the page.
#ifndef ERS_CLM_CLM_PAGE_H_
#define ERS_CLM_CLM_PAGE_H_

#include <string>

#include <nlohmann/json.hpp>

namespace ers {

// AdminPage renders |clients| (ClmStore::Clients) and |inventory|
// (ClmStore::Inventory) as one HTML page.
std::string AdminPage(const nlohmann::json& clients, const nlohmann::json& inventory);

}  // namespace ers

#endif  // ERS_CLM_CLM_PAGE_H_
