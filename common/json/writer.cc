#include "common/json/writer.h"

#include <cmath>

namespace teleclaude::mesh::json {

Writer& Writer::Double(double value, NonFinite non_finite) {
  Separate();
  if (!std::isfinite(value) && non_finite == NonFinite::kNull) {
    out_->append("null");
  } else {
    AppendDoubleMesh(value, out_);
  }
  return Done();
}

}  // namespace teleclaude::mesh::json
