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

/// Rows are counted in the order Write takes them, from the sink's creation or its last Abandon.
class Sink {
  public:
    virtual ~Sink() = default;
    /// Takes rows of one stream's partition, in sequence order (buffered or sent at once).
    virtual Status Write(std::string_view stream, uint32_t partition, std::span<const SpoolRow> rows) = 0;
    /// Makes what was written durable at the sink if it is due (or now, as far as it can, with
    /// force), and says how many rows, counted from the first written, the sink has durably
    /// taken: their positions may be acknowledged.
    virtual Result<uint64_t> Durable(bool force) = 0;
    /// After a failure, before Abandon: how many rows the sink has durably taken so far, without
    /// making anything durable (rows a failed Write sent before it failed count).
    virtual uint64_t DurableSoFar() = 0;
    /// After a failure: drops whatever was written and is not durably taken (it will be written
    /// again) and starts the count again from zero.
    virtual void Abandon() = 0;
};

/// The sink of a configured target, or a clear error naming the setting that is wrong.
Result<std::unique_ptr<Sink>> MakeSink(const TargetConfig& config);

}  // namespace surge::exports
