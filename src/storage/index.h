// Secondary and primary indexes over one table: ordered (Abseil B-tree) or hash (Abseil Swiss
// table), unique or not, on columns and expressions. Keys are memcomparable byte strings
// (key_encoding.h). Ordered non-unique indexes append 0x00 + the 8-byte tuple address to make every
// entry distinct; unique ones do the same for keys that contain a NULL (SQL lets NULLs repeat).
// Hash indexes map the full key to the tuples that have it (one, unless non-unique or NULL); they
// do not store keys: an entry is the key's hash and its tuple (or bucket of tuples), and a probe
// compares against the key built from the entry's tuple (16 bytes an entry, and growing the table
// moves entries without rehashing keys). A large hash index grows incrementally: when its table is
// full, a table twice the size takes new entries and every insert moves a few entries of the old
// one across, lookups looking in both meanwhile, so no insert stops the partition to move millions.
#pragma once

#include <absl/container/btree_map.h>
#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/container/inlined_vector.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/huge_pages.h"
#include "storage/index_key.h"
#include "storage/tuple.h"

namespace surge::storage {

/// Computes expression key parts from a tuple. Implemented above storage (exec), which owns
/// expression evaluation; storage only calls it.
class KeyExtractor {
  public:
    virtual ~KeyExtractor() = default;
    /// Writes key part `part` (whose IndexKeyPart has column < 0) of `tuple` to *out, already of
    /// the part's type. May throw SqlError (e.g. overflow while computing the expression).
    virtual void Extract(const char* tuple, int part, Value* out) const = 0;
};

/// Key range over an ordered index, on encoded key prefixes. An empty optional bound is open.
struct KeyRange {
    std::string lower;
    bool has_lower = false;
    bool lower_inclusive = true;
    std::string upper;
    bool has_upper = false;
    bool upper_inclusive = true;
};

class Index;

/// The tuples that share one hash-index key: inline while few, a hash set once many do, so that
/// inserting and erasing under a low-cardinality key stay O(1).
class HashBucket {
  public:
    using Set = absl::flat_hash_set<TuplePtr>;
    static constexpr size_t kInlineMax = 8;

    size_t size() const { return set_ ? set_->size() : small_.size(); }
    bool empty() const { return size() == 0; }
    TuplePtr front() const { return set_ ? *set_->begin() : small_.front(); }
    void Add(TuplePtr t);
    /// False when t is not in the bucket.
    bool Remove(TuplePtr t);
    const absl::InlinedVector<TuplePtr, 1>& small() const { return small_; }
    const Set* large() const { return set_.get(); }

  private:
    absl::InlinedVector<TuplePtr, 1> small_;
    std::unique_ptr<Set> set_;
};

/// Iterates the tuples an index lookup or range scan found. Valid while the index is not modified.
class IndexCursor {
  public:
    /// Next tuple, or nullptr at the end.
    TuplePtr Next();

  private:
    friend class Index;
    enum class Mode : uint8_t { kEmpty, kSingle, kVector, kSet, kForward, kReverse };
    using Tree = absl::btree_map<IndexKey, TuplePtr, IndexKeyLess>;
    Mode mode_ = Mode::kEmpty;
    TuplePtr single_ = nullptr;
    const absl::InlinedVector<TuplePtr, 1>* vec_ = nullptr;
    size_t vec_pos_ = 0;
    HashBucket::Set::const_iterator set_it_, set_end_;
    Tree::const_iterator it_, end_;  // forward: [it_, end_); reverse: walks from end_ down to it_
};

class Index;

/// A hash index entry: the key's hash (63 bits) and what has the key — one tuple, or (top bit set)
/// a HashBucket of several (a non-unique index, or NULLs in a unique one).
struct HashEntry {
    static constexpr uint64_t kMulti = uint64_t{1} << 63;
    uint64_t hash_flag;
    mutable uintptr_t ref;  ///< changes as tuples join or leave the key; the key does not change

    uint64_t hash() const { return hash_flag & ~kMulti; }
    bool multi() const { return (hash_flag & kMulti) != 0; }
    HashBucket* bucket() const { return reinterpret_cast<HashBucket*>(ref); }
    TuplePtr front() const { return multi() ? bucket()->front() : reinterpret_cast<TuplePtr>(ref); }
};
/// A lookup: an encoded key and its hash.
struct HashProbe {
    std::string_view key;
    uint64_t hash;
};
struct HashEntryHash {
    using is_transparent = void;
    size_t operator()(const HashEntry& e) const { return e.hash(); }
    size_t operator()(const HashProbe& p) const { return p.hash; }
};
/// Compares keys built from the entries' tuples (the index's scratch buffers: single-threaded).
struct HashEntryEq {
    using is_transparent = void;
    const Index* index;
    bool operator()(const HashEntry& a, const HashProbe& b) const;
    bool operator()(const HashProbe& a, const HashEntry& b) const { return (*this)(b, a); }
    bool operator()(const HashEntry& a, const HashEntry& b) const;
};

class Index {
  public:
    /// extractor may be null when every key part is a column.
    Index(std::shared_ptr<const catalog::IndexDef> def, const TupleLayout& layout,
          std::unique_ptr<KeyExtractor> extractor);
    ~Index();
    Index(const Index&) = delete;  // the hash table's comparator points back here
    Index& operator=(const Index&) = delete;

    const catalog::IndexDef& def() const { return *def_; }
    const std::string& name() const { return def_->name; }
    bool unique() const { return def_->unique(); }
    bool ordered() const { return def_->kind == catalog::IndexKind::kOrdered; }
    size_t part_count() const { return def_->key.size(); }
    TypeId part_type(size_t i) const { return def_->key[i].type.id; }
    size_t size() const;
    /// Approximate bytes used by entries (keys + container overhead).
    size_t memory_bytes() const;

    /// Encodes the full key of tuple into *out (cleared first). *has_null tells if a part is NULL.
    void BuildKey(const char* tuple, std::string* out, bool* has_null) const;

    /// For unique indexes: the live tuple whose full key equals key (no NULL parts), or nullptr.
    TuplePtr FindUnique(std::string_view key) const;
    /// Tuples whose key starts with the encoded prefix (full key for hash indexes).
    void ScanPrefix(std::string_view prefix, IndexCursor* cursor) const;
    /// Ordered indexes only: tuples in range, ascending or descending key order.
    void ScanRange(const KeyRange& range, bool reverse, IndexCursor* cursor) const;
    /// Ordered indexes only: every tuple, in key order.
    void ScanAll(bool reverse, IndexCursor* cursor) const;

    /// Entry maintenance, called by Table. Insert throws kUniqueViolation (message names the
    /// index and the key values) and leaves the index unchanged.
    void Insert(TuplePtr tuple);
    void Erase(TuplePtr tuple);  ///< tuple's bytes must still hold the key it was inserted with
    void Clear();

    /// Hash indexes with at least this many entries grow incrementally (smaller ones grow in one
    /// step, which is quick). Tests lower it to exercise the move; 0 restores the default.
    static void SetIncrementalGrowthMinimum(size_t entries);
    /// True while entries are being moved to a larger table (tests).
    bool growing() const { return !draining_.empty(); }
    /// The next table's memory mapped ahead of a move, and how much of it is faulted in (tests).
    const LargeReservation& next_table() const { return next_table_; }
    /// Moves whose new table was the memory mapped ahead (tests).
    size_t moves_into_reserved_tables() const { return moves_into_reserved_; }

  private:
    friend class Table;  // an update's key check throws the same duplicate-key error Insert does
    friend struct HashEntryEq;

    using HashSet = absl::flat_hash_set<HashEntry, HashEntryHash, HashEntryEq, HugePageAllocator<HashEntry>>;

    static uint64_t HashOf(std::string_view key) { return Hash64(key) & ~HashEntry::kMulti; }
    /// Where an entry is: the set holding it (null: nowhere) and its position there.
    struct Found {
        HashSet* set = nullptr;
        HashSet::iterator it;
    };
    /// The entry with the probe's key, in the table new entries go to or the one being drained.
    Found FindEntry(const HashProbe& probe) const;
    /// Before an insert: starts moving to a table twice the size when this one is full, or moves
    /// the next few entries of the move under way.
    void GrowStep();
    /// From 5/8 of capacity until the move: maps the next table and faults in its parts evenly
    /// over the inserts left (`done` of `window` are made).
    void PrepareNextTable(size_t capacity, size_t done, size_t window);
    /// An empty hash set of this index (holds no memory).
    HashSet EmptyHashSet() { return HashSet(0, HashEntryHash{}, HashEntryEq{this}); }
    /// Whether the key built from tuple is `key` (hash probes).
    bool KeyIs(const char* tuple, std::string_view key) const;
    void DeleteBuckets();

    /// Full key plus, for non-unique indexes and NULL-containing keys, the tuple-address suffix.
    void EntryKey(const char* tuple, std::string* out, bool* has_null) const;
    /// Throws kUniqueViolation naming this index and tuple's key values.
    [[noreturn]] void ThrowDuplicate(const char* tuple) const;

    std::shared_ptr<const catalog::IndexDef> def_;
    const TupleLayout& layout_;
    std::unique_ptr<KeyExtractor> extractor_;
    IndexCursor::Tree tree_;        // ordered indexes
    HashSet hash_;                  // hash indexes: the table new entries go to
    HashSet draining_;              // while growing: the full table whose entries move to hash_
    HashSet::iterator drain_next_;  // the next of draining_'s entries to move
    LargeReservation next_table_;   // before a move: its new table's memory, faulted in ahead
    size_t next_table_for_ = 0;     // the capacity of hash_ next_table_ was made for
    size_t moves_into_reserved_ = 0;
    size_t hash_entries_ = 0;  // tuples in hash_ and draining_
    size_t hash_buckets_ = 0;  // entries with a HashBucket
    size_t key_bytes_ = 0;     // ordered: heap bytes of keys
    // Reused by every lookup and maintenance call (single-threaded), so a warm index does not
    // allocate outside its containers.
    mutable std::string scratch_;
    mutable std::string eq_scratch_, eq_scratch2_;  // keys built by hash probes
    mutable Value scratch_value_;
};

}  // namespace surge::storage
