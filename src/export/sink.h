// A sink: where one export target delivers rows (a directory of files, Kafka, an HTTP endpoint,
// a PostgreSQL table). The target's thread drives it; see manager.h.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"
#include "export/spool.h"

namespace surge::exports {

/// A target as surged's config file defines it ([export.targets.NAME]).
struct TargetConfig {
    std::string name;
    std::string type;                             ///< file, ...
    std::map<std::string, std::string> settings;  ///< the other keys, as text
};

class Sink {
  public:
    virtual ~Sink() = default;
    /// Takes rows of one stream's partition, in sequence order (buffered or sent at once).
    virtual Status Write(std::string_view stream, uint32_t partition, std::span<const SpoolRow> rows) = 0;
    /// Makes what was written durable at the sink if it is due (or now, with force). True when
    /// every row written so far is durably taken: their positions may be acknowledged.
    virtual Result<bool> Checkpoint(bool force) = 0;
    /// After a failure: drops whatever was written and is not durably taken (it will be written
    /// again).
    virtual void Abandon() = 0;
};

/// The sink of a configured target, or a clear error naming the setting that is wrong.
Result<std::unique_ptr<Sink>> MakeSink(const TargetConfig& config);

}  // namespace surge::exports
