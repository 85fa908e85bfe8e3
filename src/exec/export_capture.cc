// Export capture (see export_capture.h).
#include "exec/export_capture.h"

#include <cstring>

#include "common/bytes.h"
#include "common/status.h"
#include "storage/row_codec.h"

namespace surge::exec {

std::string_view ExportOpName(ExportOp op) {
    switch (op) {
        case ExportOp::kInsert:
            return "INSERT";
        case ExportOp::kDelete:
            return "DELETE";
        case ExportOp::kUpdateBefore:
            return "UPDATE_BEFORE";
        case ExportOp::kUpdateAfter:
            return "UPDATE_AFTER";
        case ExportOp::kMigrate:
            return "MIGRATE";
    }
    return "UNKNOWN";
}

bool CapturedRow::Parse(std::string_view bytes, size_t* pos) {
    const size_t p = *pos;
    if (bytes.size() - p < kHeaderBytes) return false;
    const char* at = bytes.data() + p;
    const auto size = GetRaw<uint32_t>(at);
    if (size < kHeaderBytes || bytes.size() - p < size) return false;
    channel = GetRaw<uint32_t>(at + 4);
    seq = GetRaw<uint64_t>(at + 8);
    txn_id = GetRaw<uint64_t>(at + 16);
    timestamp = GetRaw<int64_t>(at + 24);
    op = static_cast<ExportOp>(static_cast<uint8_t>(at[32]));
    row = std::string_view(at + kHeaderBytes, size - kHeaderBytes);
    *pos = p + size;
    return true;
}

ExportCapture::Counter& ExportCapture::CounterOf(const std::string& stream) {
    auto& slot = counters_[stream];
    if (!slot) slot = std::make_unique<Counter>();
    return *slot;
}

uint32_t ExportCapture::ChannelFor(const std::shared_ptr<const catalog::TableDef>& def) {
    for (size_t i = 0; i < channels_.size(); ++i) {
        if (channels_[i].def == def) return static_cast<uint32_t>(i);
    }
    std::lock_guard<std::mutex> lock(mu_);
    channels_.push_back({def->name, def->export_target, def});
    channel_counters_.push_back(&CounterOf(def->name));
    return static_cast<uint32_t>(channels_.size() - 1);
}

uint64_t ExportCapture::Capture(uint32_t channel, ExportOp op, const storage::TupleLayout& layout, const char* tuple,
                                uint64_t txn_id, int64_t timestamp, storage::UndoLog& undo) {
    if (paused_) return 0;
    if (enforce_ && refusing_ && refusing_->load(std::memory_order_relaxed)) {
        ThrowSqlError(ErrorCode::kResourceExhausted, why_());
    }
    const size_t start = pending_.size();
    PutRaw<uint32_t>(&pending_, 0);
    PutRaw<uint32_t>(&pending_, channel);
    PutRaw<uint64_t>(&pending_, 0);  // the sequence number, given at commit
    PutRaw<uint64_t>(&pending_, txn_id);
    PutRaw<int64_t>(&pending_, timestamp);
    pending_.push_back(static_cast<char>(op));
    storage::EncodeRow(layout, tuple, &pending_);
    const auto size = static_cast<uint32_t>(pending_.size() - start);
    std::memcpy(pending_.data() + start, &size, 4);
    undo.RecordHook(this, start);
    // The commit numbers the open rows oldest first, and an undo takes the newest away.
    Counter& counter = *channel_counters_[channel];
    return counter.seq + ++counter.open;
}

void ExportCapture::Undo(uint64_t offset) {
    --channel_counters_[GetRaw<uint32_t>(pending_.data() + offset + 4)]->open;
    pending_.resize(offset);
}

void ExportCapture::Commit(uint64_t offset) {
    char* at = pending_.data() + offset;
    Counter& counter = *channel_counters_[GetRaw<uint32_t>(at + 4)];
    --counter.open;
    const uint64_t seq = ++counter.seq;
    std::memcpy(at + 8, &seq, 8);
    committed_ = offset + GetRaw<uint32_t>(at);
}

void ExportCapture::Publish() {
    if (committed_ == 0) return;
    {
        std::lock_guard<std::mutex> lock(mu_);
        outbox_.append(pending_.data(), committed_);
    }
    pending_.erase(0, committed_);
    committed_ = 0;
}

std::vector<std::pair<std::string, uint64_t>> ExportCapture::Sequences() const {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const auto& [name, counter] : counters_) out.emplace_back(name, counter->seq);
    return out;
}

uint64_t ExportCapture::Sequence(std::string_view stream) const {
    auto it = counters_.find(std::string(stream));
    return it == counters_.end() ? 0 : it->second->seq;
}

void ExportCapture::SetSequence(const std::string& stream, uint64_t seq) { CounterOf(stream).seq = seq; }

void ExportCapture::Take(std::string* bytes, size_t known, std::vector<ExportChannel>* channels) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = known; i < channels_.size(); ++i) channels->push_back(channels_[i]);
    if (bytes->empty()) {
        bytes->swap(outbox_);
    } else {
        bytes->append(outbox_);
        outbox_.clear();
    }
}

void ExportListener::OnInsert(storage::Table& table, const char* tuple, storage::UndoLog& undo) {
    if (ops_ & catalog::kExportInsert) {
        capture_->Capture(channel_, ExportOp::kInsert, table.layout(), tuple, *txn_id_, *timestamp_, undo);
    }
}

void ExportListener::OnDelete(storage::Table& table, const char* tuple, storage::UndoLog& undo) {
    if (ops_ & catalog::kExportDelete) {
        capture_->Capture(channel_, ExportOp::kDelete, table.layout(), tuple, *txn_id_, *timestamp_, undo);
    }
}

void ExportListener::OnUpdate(storage::Table& table, const char* before, const char* after, storage::UndoLog& undo) {
    if (ops_ & catalog::kExportUpdate) {
        capture_->Capture(channel_, ExportOp::kUpdateBefore, table.layout(), before, *txn_id_, *timestamp_, undo);
        capture_->Capture(channel_, ExportOp::kUpdateAfter, table.layout(), after, *txn_id_, *timestamp_, undo);
    }
}

}  // namespace surge::exec
