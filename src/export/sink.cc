// Which sink a target's type makes (see sink.h).
#include "export/sink.h"

#include "export/file_sink.h"
#include "export/http_sink.h"
#include "export/kafka_sink.h"
#include "export/pg_sink.h"

namespace surge::exports {

Result<std::unique_ptr<Sink>> MakeSink(const TargetConfig& config) {
    if (config.type == "file") {
        auto s = FileSink::Create(config);
        if (!s.ok()) return s.status();
        return std::unique_ptr<Sink>(std::move(*s));
    }
    if (config.type == "kafka") {
        auto s = KafkaSink::Create(config);
        if (!s.ok()) return s.status();
        return std::unique_ptr<Sink>(std::move(*s));
    }
    if (config.type == "http") {
        auto s = HttpSink::Create(config);
        if (!s.ok()) return s.status();
        return std::unique_ptr<Sink>(std::move(*s));
    }
    if (config.type == "postgresql") {
        auto s = PgSink::Create(config);
        if (!s.ok()) return s.status();
        return std::unique_ptr<Sink>(std::move(*s));
    }
    return Status(ErrorCode::kInvalidParameter, "export target \"" + config.name + "\": type \"" + config.type +
                                                    "\" is not available (the types are file, kafka, http and "
                                                    "postgresql)");
}

}  // namespace surge::exports
