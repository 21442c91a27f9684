// `dedup` (DESIGN §4; TeleClaude's cartridges/dedup.py): for a catalogued
// type with idempotency fields, stamps the key `type:value1:value2...` on the
// envelope and drops the event when a notification with that key exists —
// except for update-only lifecycles, which always pass.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_DEDUP_CARTRIDGE_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_DEDUP_CARTRIDGE_H_

#include <string_view>

#include "common/cartridge/system_cartridges.h"
#include "common/catalog/event_catalog.h"
#include "services/egress/cartridges/cartridge.h"
#include "services/egress/storage/events_db.h"

namespace teleclaude::mesh {

// Thread-compatible (the pipeline worker's thread). `catalog` and `db` are
// not owned and must outlive the cartridge.
class DedupCartridge : public Cartridge {
 public:
  DedupCartridge(const EventCatalog* catalog, EventsDb* db) : catalog_(catalog), db_(db) {}

  std::string_view Name() const override { return kDedupCartridge; }
  absl::StatusOr<Verdict> Process(EventEnvelope& event, CartridgeContext& context) override;

 private:
  const EventCatalog* const catalog_;
  EventsDb* const db_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_DEDUP_CARTRIDGE_H_
