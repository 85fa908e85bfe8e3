// Index maintenance and lookups over memcomparable keys (see index.h and key_encoding.h).
//
// Ordered indexes keep one B-tree entry per tuple: the key itself for a unique key without NULLs,
// else the key + 0x00 + the tuple address, so equal keys stay distinct and Erase finds the exact
// entry. Hash indexes map the full key to the tuples that have it (one for a unique key; any
// number for non-unique keys and for NULL-containing keys of a unique index).
#include "storage/index.h"

#include <algorithm>
#include <atomic>

#include "common/status.h"
#include "storage/key_encoding.h"

namespace surge::storage {
namespace {

// Approximate container cost per entry beyond the keys' heap bytes: the key and pointer stored in
// a B-tree node, plus the node's share of its header and unused slots.
constexpr size_t kOrderedEntryOverhead = sizeof(IndexKey) + sizeof(TuplePtr) + 16;
// A Swiss-table slot (hash + tuple) plus its control byte.
constexpr size_t kHashEntryOverhead = sizeof(HashEntry) + 1;

// Hash indexes at least this large grow incrementally; entries moved per insert while they do. A
// table full at C entries moves them within C / kMovesPerInsert inserts, long before its successor
// (made for 2C) fills.
constexpr size_t kDefaultIncrementalGrowthMinimum = 1 << 16;
constexpr size_t kMovesPerInsert = 8;
std::atomic<size_t> g_incremental_growth_minimum{kDefaultIncrementalGrowthMinimum};

void AppendAddressSuffix(const char* tuple, std::string* out) {
    // Big-endian so entries with equal keys sort by address, a stable order.
    auto addr = reinterpret_cast<uintptr_t>(tuple);
    char buf[9];
    buf[0] = '\0';
    for (int i = 8; i >= 1; --i) {
        buf[i] = static_cast<char>(addr & 0xFF);
        addr >>= 8;
    }
    out->append(buf, 9);
}

}  // namespace

void HashBucket::Add(TuplePtr t) {
    if (set_) {
        set_->insert(t);
        return;
    }
    if (small_.size() < kInlineMax) {
        small_.push_back(t);
        return;
    }
    set_ = std::make_unique<Set>(small_.begin(), small_.end());
    set_->insert(t);
    small_.clear();
    small_.shrink_to_fit();
}

bool HashBucket::Remove(TuplePtr t) {
    if (set_) return set_->erase(t) > 0;
    auto pos = std::find(small_.begin(), small_.end(), t);
    if (pos == small_.end()) return false;
    *pos = small_.back();
    small_.pop_back();
    return true;
}

TuplePtr IndexCursor::Next() {
    switch (mode_) {
        case Mode::kEmpty:
            return nullptr;
        case Mode::kSingle:
            mode_ = Mode::kEmpty;
            return single_;
        case Mode::kVector:
            if (vec_pos_ < vec_->size()) return (*vec_)[vec_pos_++];
            mode_ = Mode::kEmpty;
            return nullptr;
        case Mode::kSet:
            if (set_it_ != set_end_) return *set_it_++;
            mode_ = Mode::kEmpty;
            return nullptr;
        case Mode::kForward:
            if (it_ == end_) {
                mode_ = Mode::kEmpty;
                return nullptr;
            } else {
                TuplePtr t = it_->second;
                ++it_;
                return t;
            }
        case Mode::kReverse:
            if (end_ == it_) {
                mode_ = Mode::kEmpty;
                return nullptr;
            }
            --end_;
            return end_->second;
    }
    return nullptr;
}

Index::Index(std::shared_ptr<const catalog::IndexDef> def, const TupleLayout& layout,
             std::unique_ptr<KeyExtractor> extractor)
    : def_(std::move(def)),
      layout_(layout),
      extractor_(std::move(extractor)),
      hash_(EmptyHashSet()),
      draining_(EmptyHashSet()) {
    for (const auto& part : def_->key) {
        if (part.column < 0 && extractor_ == nullptr) {
            ThrowSqlError(ErrorCode::kInternal,
                          "storage: index \"" + def_->name + "\" has an expression key part but no extractor");
        }
        if (part.column >= static_cast<int>(layout_.column_count())) {
            ThrowSqlError(ErrorCode::kInternal,
                          "storage: index \"" + def_->name + "\" names a column the table does not have");
        }
    }
}

Index::~Index() { DeleteBuckets(); }

void Index::DeleteBuckets() {
    if (hash_buckets_ == 0) return;
    for (const HashSet* set : {&hash_, &draining_}) {
        for (const HashEntry& e : *set) {
            if (e.multi()) delete e.bucket();
        }
    }
    hash_buckets_ = 0;
}

void Index::SetIncrementalGrowthMinimum(size_t entries) {
    g_incremental_growth_minimum = entries == 0 ? kDefaultIncrementalGrowthMinimum : entries;
}

Index::Found Index::FindEntry(const HashProbe& probe) const {
    auto* self = const_cast<Index*>(this);  // iterators of the sets, not changes to them
    if (auto it = self->hash_.find(probe); it != self->hash_.end()) return {&self->hash_, it};
    if (draining_.empty()) return {};
    if (auto it = self->draining_.find(probe); it != self->draining_.end()) return {&self->draining_, it};
    return {};
}

void Index::GrowStep() {
    if (draining_.empty()) {
        // absl grows a table in one step once its entries and deleted slots reach 7/8 of its
        // capacity (deleted slots alone only make it rehash in place while the entries are at
        // most 25/32); starting the move at 3/4 comes before either with a margin for deleted
        // slots.
        const size_t capacity = hash_.capacity();
        const size_t size = hash_.size() + 1;  // with the entry about to be inserted
        if (hash_.size() < g_incremental_growth_minimum.load(std::memory_order_relaxed)) return;
        const size_t move_at = capacity - capacity / 4;
        const size_t prepare_at = capacity / 2 + capacity / 8;
        if (size < move_at) {
            if (size >= prepare_at) PrepareNextTable(capacity, size - prepare_at, move_at - prepare_at);
            return;
        }
        draining_ = std::move(hash_);
        hash_ = EmptyHashSet();
        {
            ScopedLargeHandOff hand_off(&next_table_);
            hash_.reserve(2 * draining_.size());
            if (hand_off.taken()) ++moves_into_reserved_;
        }
        next_table_.Release();  // one the table did not fit in
        drain_next_ = draining_.begin();
        return;
    }
    for (size_t i = 0; i < kMovesPerInsert && drain_next_ != draining_.end(); ++i) {
        auto moving = drain_next_++;
        hash_.insert(*moving);  // keys are in one of the two sets, never both: no key compare
        draining_.erase(moving);
    }
    if (drain_next_ == draining_.end()) {
        if (draining_.empty()) {
            draining_ = EmptyHashSet();  // frees its memory
        } else {
            drain_next_ = draining_.begin();  // not expected (every entry was passed): go round again
        }
    }
}

void Index::PrepareNextTable(size_t capacity, size_t done, size_t window) {
    if (!next_table_.empty() && next_table_for_ != capacity) {
        next_table_.Release();  // made for another capacity (Abseil grew the table itself)
    }
    if (next_table_.empty()) {
        // Reserving 2 x 3/4 x capacity entries makes a table of 2 x capacity + 1 slots (absl's
        // capacities are 2^k - 1 and it fills them to 7/8): one slot and one control byte each,
        // plus a few bytes of header and cloned control bytes. Small tables come from operator
        // new, not MapLarge: nothing to prepare.
        const size_t bytes = (2 * capacity + 1) * kHashEntryOverhead + 64;
        if (bytes < kHugePageBytes) return;
        next_table_.Map(bytes);
        next_table_for_ = capacity;
    }
    // Parts faulted in so far should be in proportion to the window passed, one ahead.
    const size_t parts = next_table_.parts();
    const size_t due = std::min(parts, (done + 1) * parts / window + 1);
    while (next_table_.touched_parts() < due && next_table_.TouchNext()) {
    }
}

bool HashEntryEq::operator()(const HashEntry& a, const HashProbe& b) const {
    // The table matched 7 bits of the hash; the entry keeps 63 of them, so a key is built from the
    // tuple only when those agree too.
    return a.hash() == b.hash && index->KeyIs(a.front(), b.key);
}

bool HashEntryEq::operator()(const HashEntry& a, const HashEntry& b) const {
    if (a.hash() != b.hash()) return false;
    bool null_a, null_b;
    index->BuildKey(a.front(), &index->eq_scratch_, &null_a);
    index->BuildKey(b.front(), &index->eq_scratch2_, &null_b);
    return index->eq_scratch_ == index->eq_scratch2_;
}

bool Index::KeyIs(const char* tuple, std::string_view key) const {
    bool has_null;
    BuildKey(tuple, &eq_scratch_, &has_null);
    return eq_scratch_ == key;
}

size_t Index::size() const { return ordered() ? tree_.size() : hash_entries_; }

size_t Index::memory_bytes() const {
    if (ordered()) return key_bytes_ + tree_.size() * kOrderedEntryOverhead;
    // Tuples beyond the first of a key sit in its bucket.
    const size_t keys = hash_.size() + draining_.size();
    return keys * kHashEntryOverhead + hash_buckets_ * sizeof(HashBucket) + (hash_entries_ - keys) * sizeof(TuplePtr);
}

void Index::BuildKey(const char* tuple, std::string* out, bool* has_null) const {
    out->clear();
    *has_null = false;
    const auto& key = def_->key;
    for (size_t i = 0; i < key.size(); ++i) {
        const auto& part = key[i];
        if (part.column >= 0) {
            // Straight from the slot when the column's type is the key part's (an index on a
            // column), without a Value in between.
            const TypeId type = layout_.type(part.column);
            if (type == part.type.id &&
                (type == TypeId::kTinyInt || type == TypeId::kSmallInt || type == TypeId::kInteger ||
                 type == TypeId::kBigInt || type == TypeId::kTimestamp || layout_.is_var(part.column))) {
                if (layout_.IsNull(tuple, part.column)) {
                    *has_null = true;
                    EncodeNullKeyPart(out);
                } else if (layout_.is_var(part.column)) {
                    const VarData* v = layout_.GetVar(tuple, part.column);
                    EncodeBytesKeyPart(std::string_view(v->bytes(), v->size), out);
                } else {
                    EncodeIntKeyPart(layout_.GetInt(tuple, part.column), out);
                }
                continue;
            }
            layout_.Read(tuple, part.column, &scratch_value_);
        } else {
            extractor_->Extract(tuple, static_cast<int>(i), &scratch_value_);
        }
        if (scratch_value_.is_null()) *has_null = true;
        EncodeKeyPart(scratch_value_, part.type.id, out);
    }
}

void Index::EntryKey(const char* tuple, std::string* out, bool* has_null) const {
    BuildKey(tuple, out, has_null);
    if (ordered() && (!unique() || *has_null)) AppendAddressSuffix(tuple, out);
}

TuplePtr Index::FindUnique(std::string_view key) const {
    if (ordered()) {
        auto it = tree_.find(key);
        return it == tree_.end() ? nullptr : it->second;
    }
    const Found f = FindEntry(HashProbe{key, HashOf(key)});
    return f.set ? f.it->front() : nullptr;
}

void Index::ScanPrefix(std::string_view prefix, IndexCursor* cursor) const {
    cursor->mode_ = IndexCursor::Mode::kEmpty;
    if (!ordered()) {
        const Found f = FindEntry(HashProbe{prefix, HashOf(prefix)});
        if (!f.set) return;
        const HashEntry* it = &*f.it;
        if (!it->multi()) {
            cursor->mode_ = IndexCursor::Mode::kSingle;
            cursor->single_ = it->front();
            return;
        }
        const HashBucket& bucket = *it->bucket();
        if (const HashBucket::Set* set = bucket.large()) {
            cursor->mode_ = IndexCursor::Mode::kSet;
            cursor->set_it_ = set->begin();
            cursor->set_end_ = set->end();
        } else {
            cursor->mode_ = IndexCursor::Mode::kVector;
            cursor->vec_ = &bucket.small();
            cursor->vec_pos_ = 0;
        }
        return;
    }
    auto it = tree_.lower_bound(prefix);
    if (it == tree_.end() || !it->first.view().starts_with(prefix)) return;
    if (unique() && it->first.size() == prefix.size()) {
        // A full key without NULLs is stored bare in a unique index, and parts are
        // self-delimiting, so no other entry can start with it: a point lookup, one search.
        cursor->mode_ = IndexCursor::Mode::kSingle;
        cursor->single_ = it->second;
        return;
    }
    scratch_.assign(prefix);
    scratch_.push_back('\xFF');  // PrefixSuccessor without a fresh string
    cursor->mode_ = IndexCursor::Mode::kForward;
    cursor->it_ = it;
    cursor->end_ = tree_.lower_bound(std::string_view(scratch_));
}

void Index::ScanRange(const KeyRange& range, bool reverse, IndexCursor* cursor) const {
    if (!ordered()) ThrowSqlError(ErrorCode::kInternal, "storage: range scan on hash index \"" + name() + "\"");
    cursor->mode_ = IndexCursor::Mode::kEmpty;
    auto begin = tree_.begin();
    if (range.has_lower) {
        if (range.lower_inclusive) {
            begin = tree_.lower_bound(std::string_view(range.lower));
        } else {
            scratch_.assign(range.lower);
            scratch_.push_back('\xFF');
            begin = tree_.lower_bound(std::string_view(scratch_));
        }
    }
    auto end = tree_.end();
    if (range.has_upper) {
        if (range.upper_inclusive) {
            scratch_.assign(range.upper);
            scratch_.push_back('\xFF');
            end = tree_.lower_bound(std::string_view(scratch_));
        } else {
            end = tree_.lower_bound(std::string_view(range.upper));
        }
    }
    // An empty range (lower above upper) would leave begin past end; walking it would run off.
    if (begin == tree_.end() || (end != tree_.end() && !(begin->first.view() < end->first.view()))) return;
    cursor->mode_ = reverse ? IndexCursor::Mode::kReverse : IndexCursor::Mode::kForward;
    cursor->it_ = begin;
    cursor->end_ = end;
}

void Index::ScanAll(bool reverse, IndexCursor* cursor) const {
    if (!ordered()) ThrowSqlError(ErrorCode::kInternal, "storage: ordered scan on hash index \"" + name() + "\"");
    cursor->mode_ = reverse ? IndexCursor::Mode::kReverse : IndexCursor::Mode::kForward;
    cursor->it_ = tree_.begin();
    cursor->end_ = tree_.end();
}

void Index::Insert(TuplePtr tuple) {
    bool has_null;
    EntryKey(tuple, &scratch_, &has_null);
    const bool must_be_unique = unique() && !has_null;
    if (ordered()) {
        // One B-tree descent: insert_unique reports an existing equal key instead of inserting.
        auto [it, inserted] = tree_.insert({IndexKey(scratch_), tuple});
        if (!inserted) {
            if (must_be_unique) ThrowDuplicate(tuple);
            ThrowSqlError(ErrorCode::kInternal, "storage: tuple inserted twice into index \"" + name() + "\"");
        }
        key_bytes_ += it->first.heap_bytes();
        return;
    }
    const uint64_t h = HashOf(scratch_);
    GrowStep();
    bool added = false;
    const HashEntry* it = nullptr;
    if (!draining_.empty()) {  // a key still in the table being drained (lazy_emplace looks in hash_)
        if (auto d = draining_.find(HashProbe{scratch_, h}); d != draining_.end()) it = &*d;
    }
    if (!it) {
        it = &*hash_.lazy_emplace(HashProbe{scratch_, h}, [&](const auto& construct) {
            added = true;
            construct(HashEntry{h, reinterpret_cast<uintptr_t>(tuple)});
        });
    }
    if (!added) {
        if (must_be_unique) ThrowDuplicate(tuple);  // the key is taken
        if (it->multi()) {
            it->bucket()->Add(tuple);
        } else {
            // A second tuple with this key: the entry moves its tuples to a bucket. (The hash
            // part of an entry never changes, so the set's order is unaffected.)
            auto bucket = std::make_unique<HashBucket>();
            bucket->Add(reinterpret_cast<TuplePtr>(it->ref));
            bucket->Add(tuple);
            HashEntry& e = const_cast<HashEntry&>(*it);
            e.hash_flag |= HashEntry::kMulti;
            e.ref = reinterpret_cast<uintptr_t>(bucket.release());
            ++hash_buckets_;
        }
    }
    ++hash_entries_;
}

void Index::Erase(TuplePtr tuple) {
    bool has_null;
    EntryKey(tuple, &scratch_, &has_null);
    if (ordered()) {
        auto it = tree_.find(std::string_view(scratch_));
        if (it == tree_.end() || it->second != tuple) {
            ThrowSqlError(ErrorCode::kInternal, "storage: erasing a missing entry from index \"" + name() + "\"");
        }
        key_bytes_ -= it->first.heap_bytes();
        tree_.erase(it);
        return;
    }
    if (const Found f = FindEntry(HashProbe{scratch_, HashOf(scratch_)}); f.set) {
        const HashEntry* it = &*f.it;
        if (!it->multi()) {
            if (it->front() == tuple) {
                if (f.set == &draining_ && f.it == drain_next_) ++drain_next_;
                f.set->erase(f.it);
                if (f.set == &draining_ && draining_.empty()) draining_ = EmptyHashSet();
                --hash_entries_;
                return;
            }
        } else if (it->bucket()->Remove(tuple)) {
            --hash_entries_;
            HashBucket* bucket = it->bucket();
            if (bucket->size() == 1) {  // back to a plain entry
                HashEntry& e = const_cast<HashEntry&>(*it);
                e.ref = reinterpret_cast<uintptr_t>(bucket->front());
                e.hash_flag &= ~HashEntry::kMulti;
                delete bucket;
                --hash_buckets_;
            }
            return;
        }
    }
    ThrowSqlError(ErrorCode::kInternal, "storage: erasing a missing entry from index \"" + name() + "\"");
}

void Index::Clear() {
    tree_.clear();
    next_table_.Release();
    DeleteBuckets();
    hash_.clear();
    draining_ = EmptyHashSet();
    hash_entries_ = 0;
    key_bytes_ = 0;
}

void Index::ThrowDuplicate(const char* tuple) const {
    std::string values;
    Value v;
    for (size_t i = 0; i < def_->key.size(); ++i) {
        const auto& part = def_->key[i];
        if (part.column >= 0) {
            layout_.Read(tuple, part.column, &v);
        } else {
            extractor_->Extract(tuple, static_cast<int>(i), &v);
        }
        if (i > 0) values += ", ";
        if (!v.is_null() && v.type() == TypeId::kVarchar) {
            values += "'" + std::string(v.AsString()) + "'";
        } else {
            values += v.ToString();
        }
    }
    ThrowSqlError(ErrorCode::kUniqueViolation, "duplicate key (" + values + ") violates unique index \"" + name() +
                                                   "\" on table \"" + def_->table + "\"");
}

}  // namespace surge::storage
