// Secondary and primary indexes over one table: ordered (Abseil B-tree) or hash (Abseil Swiss
// table), unique or not, on columns and expressions. Keys are memcomparable byte strings
// (key_encoding.h). Ordered non-unique indexes append 0x00 + the 8-byte tuple address to make every
// entry distinct; unique ones do the same for keys that contain a NULL (SQL lets NULLs repeat).
// Hash indexes map the full key to the tuples that have it (one, unless non-unique or NULL).
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

class Index {
  public:
    /// extractor may be null when every key part is a column.
    Index(std::shared_ptr<const catalog::IndexDef> def, const TupleLayout& layout,
          std::unique_ptr<KeyExtractor> extractor);

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

    /// Whether a tuple with these key bytes would violate uniqueness (for pre-checks).
    bool WouldConflict(const char* tuple, TuplePtr ignore) const;

  private:
    friend class Table;  // pre-checks throw the same duplicate-key error Insert does

    /// Full key plus, for non-unique indexes and NULL-containing keys, the tuple-address suffix.
    void EntryKey(const char* tuple, std::string* out, bool* has_null) const;
    /// Throws kUniqueViolation naming this index and tuple's key values.
    [[noreturn]] void ThrowDuplicate(const char* tuple) const;

    std::shared_ptr<const catalog::IndexDef> def_;
    const TupleLayout& layout_;
    std::unique_ptr<KeyExtractor> extractor_;
    IndexCursor::Tree tree_;                                                    // ordered indexes
    absl::flat_hash_map<IndexKey, HashBucket, IndexKeyHash, IndexKeyEq> hash_;  // hash indexes
    size_t hash_entries_ = 0;
    size_t key_bytes_ = 0;
    // Reused by every lookup and maintenance call (single-threaded), so a warm index does not
    // allocate outside its containers.
    mutable std::string scratch_;
    mutable Value scratch_value_;
};

}  // namespace surge::storage
