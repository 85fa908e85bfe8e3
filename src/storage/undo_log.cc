// The undo log: records of a transaction's writes, replayed newest-first to undo or walked
// oldest-first to release (see undo_log.h).
//
// Before-images of updates go in an arena of fixed chunks that is reset, not freed, when the log
// empties, so a warm partition records updates without allocating.
#include "storage/undo_log.h"

#include "storage/table.h"

namespace surge::storage {

UndoLog::~UndoLog() { Release(); }

void UndoLog::RecordInsert(Table* table, TuplePtr tuple) {
    records_.push_back({Kind::kInsert, table, {tuple}, {nullptr}});
}

void UndoLog::RecordDelete(Table* table, TuplePtr tuple) {
    records_.push_back({Kind::kDelete, table, {tuple}, {nullptr}});
}

void UndoLog::RecordUpdate(Table* table, TuplePtr tuple, char* before) {
    records_.push_back({Kind::kUpdate, table, {tuple}, {before}});
}

void UndoLog::RecordHook(UndoHook* hook, uint64_t arg) {
    Record r{Kind::kHook, nullptr, {nullptr}, {nullptr}};
    r.hook = hook;
    r.arg = arg;
    records_.push_back(r);
}

char* UndoLog::AllocateImage(uint32_t size) {
    const size_t bytes = (static_cast<size_t>(size) + 15) & ~size_t{15};  // keeps images 16-aligned
    if (bytes > kChunkSize) {
        big_images_.push_back(std::make_unique_for_overwrite<char[]>(bytes));
        return big_images_.back().get();
    }
    if (chunk_index_ < chunks_.size() && chunk_used_ + bytes > kChunkSize) {
        ++chunk_index_;
        chunk_used_ = 0;
    }
    if (chunk_index_ == chunks_.size()) chunks_.push_back(std::make_unique_for_overwrite<char[]>(kChunkSize));
    char* p = chunks_[chunk_index_].get() + chunk_used_;
    chunk_used_ += bytes;
    return p;
}

void UndoLog::UndoTo(size_t mark) {
    const char* oldest_chunk_image = nullptr;
    while (records_.size() > mark) {
        const Record r = records_.back();
        records_.pop_back();
        switch (r.kind) {
            case Kind::kInsert:
                r.table->UndoInsert(r.tuple);
                break;
            case Kind::kDelete:
                r.table->UndoDelete(r.tuple);
                break;
            case Kind::kUpdate:
                r.table->UndoUpdate(r.tuple, r.before);
                // Big images were allocated in record order, so an undone one is the newest.
                if (!big_images_.empty() && big_images_.back().get() == r.before) {
                    big_images_.pop_back();
                } else {
                    oldest_chunk_image = r.before;
                }
                break;
            case Kind::kHook:
                r.hook->Undo(r.arg);
                break;
        }
    }
    if (records_.empty()) {
        chunk_index_ = 0;
        chunk_used_ = 0;
        big_images_.clear();
    } else if (oldest_chunk_image != nullptr) {
        RewindImages(oldest_chunk_image);
    }
}

void UndoLog::RewindImages(const char* oldest_undone_image) {
    // Images are carved in record order, so everything from the oldest undone image on belongs to
    // undone records (or to updates that failed before recording): give that space back, so a
    // long transaction that retries failing statements does not grow the arena.
    for (size_t i = chunk_index_ + 1; i-- > 0;) {
        if (i >= chunks_.size()) continue;
        const auto base = reinterpret_cast<uintptr_t>(chunks_[i].get());
        const auto image = reinterpret_cast<uintptr_t>(oldest_undone_image);
        if (image >= base && image < base + kChunkSize) {
            chunk_index_ = i;
            chunk_used_ = image - base;
            return;
        }
    }
}

void UndoLog::Release() {
    for (const Record& r : records_) {
        switch (r.kind) {
            case Kind::kInsert:
                if (r.table->is_stream()) r.table->ReleaseStreamInsert(r.tuple);
                break;
            case Kind::kDelete:
                r.table->ReleaseDelete(r.tuple);
                break;
            case Kind::kUpdate:
                r.table->ReleaseUpdate(r.tuple, r.before);
                break;
            case Kind::kHook:
                r.hook->Commit(r.arg);
                break;
        }
    }
    records_.clear();
    chunk_index_ = 0;
    chunk_used_ = 0;
    big_images_.clear();
    if (chunks_.size() > kChunksKept) chunks_.resize(kChunksKept);
}

}  // namespace surge::storage
