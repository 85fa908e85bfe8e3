// The window operator: ROW_NUMBER, RANK, DENSE_RANK, LAG, LEAD and COUNT/SUM/MIN/MAX/AVG OVER
// (PARTITION BY ... ORDER BY ...), with integer keys sorted by radix passes
// (docs/adr/0012-scan-fast-paths.md).
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

#include "exec/operators_internal.h"
#include "exec/scan_filter.h"
#include "types/value_ops.h"

namespace surge::exec {

namespace {

using sql::PlanNode;

/// Window functions: collects its input, evaluating each function's partition and order keys (and
/// argument) as rows arrive; then for each function sorts row numbers by those keys and walks each
/// partition's peer groups (rows with equal order keys), computing the function's value for the
/// column appended for it. Rows come out in input order. Only the input columns the parent reads
/// are kept (in one flat array), and functions whose column the parent does not read are skipped.
class WindowOp : public Operator {
  public:
    WindowOp(const PlanNode& plan, TableResolver& tables)
        : Operator(plan), child_(BuildOperator(*plan.children[0], tables)) {
        width_ = child_->width() + plan.windows.size();
        for (size_t i = 0; i < child_->width(); ++i) keep_.push_back(i);
        computed_.assign(plan.windows.size(), true);
        keys_.resize(plan.windows.size());
    }
    void LimitColumns(const std::vector<bool>& used) override {
        const size_t cw = child_->width();
        std::vector<bool> kept(used.begin(), used.begin() + static_cast<ptrdiff_t>(std::min(used.size(), cw)));
        kept.resize(cw, true);
        std::vector<bool> need = kept;
        for (const auto& w : plan_.windows) {
            if (!MarkAll(w.partition_by, &need) || !MarkAll(w.order_by, &need) ||
                (w.arg && !MarkColumns(*w.arg, &need)) || (w.default_value && !MarkColumns(*w.default_value, &need))) {
                return;
            }
        }
        keep_.clear();
        for (size_t i = 0; i < cw; ++i) {
            if (kept[i]) keep_.push_back(i);
        }
        for (size_t k = 0; k < plan_.windows.size(); ++k) computed_[k] = cw + k >= used.size() || used[cw + k];
        child_->LimitColumns(need);
    }
    void Open(ExecContext& ctx, const EvalRow& context) override {
        const size_t nw = plan_.windows.size(), stride = keep_.size();
        vals_.clear();
        outs_.clear();
        n_ = pos_ = 0;
        outer_ = context.outer;
        for (size_t k = 0; k < nw; ++k) keys_[k].Reset(plan_.windows[k]);
        child_->Open(ctx, context);
        std::vector<Value> row;
        while (child_->Next(ctx, &row)) {
            EvalRow r{row.data(), outer_};
            for (size_t k = 0; k < nw; ++k) {
                if (computed_[k]) keys_[k].Add(plan_.windows[k], r, ctx);
            }
            vals_.resize((n_ + 1) * stride);
            Value* dst = vals_.data() + n_ * stride;
            for (size_t j = 0; j < stride; ++j) dst[j] = std::move(row[keep_[j]]);
            ++n_;
        }
        outs_.resize(nw);
        for (size_t k = 0; k < nw; ++k) {
            outs_[k].ranks.clear();
            outs_[k].values.clear();
            if (computed_[k]) Compute(plan_.windows[k], keys_[k], &outs_[k]);
        }
    }
    bool Next(ExecContext&, std::vector<Value>* row) override {
        if (pos_ >= n_) return false;
        const size_t cw = child_->width(), nw = plan_.windows.size(), stride = keep_.size();
        row->resize(width_);
        Value* src = vals_.data() + pos_ * stride;
        for (size_t j = 0; j < stride; ++j) (*row)[keep_[j]] = std::move(src[j]);  // rebuilt at every Open
        for (size_t k = 0; k < nw; ++k) {
            Value& v = (*row)[cw + k];
            const Out& o = outs_[k];
            if (!o.ranks.empty())
                v = Value::BigInt(o.ranks[pos_]);
            else if (!o.values.empty())
                v = std::move(outs_[k].values[pos_]);
        }
        ++pos_;
        return true;
    }
    void Trim() override {
        child_->Trim();
        TrimVector(vals_);
        for (Out& o : outs_) {
            TrimVector(o.ranks);
            TrimVector(o.values);
        }
        for (Keys& k : keys_) {
            TrimVector(k.ivals);
            TrimVector(k.types);
            TrimVector(k.vals);
            TrimVector(k.args);
            TrimVector(k.defaults);
        }
        TrimVector(recs_);
        TrimVector(recs_tmp_);
        TrimVector(counts_);
        TrimVector(order_);
        TrimVector(starts_);
    }

  private:
    /// One function's partition and order keys and argument, per input row. Keys are held as
    /// int64s with their types while every one is an integer, a TIMESTAMP or NULL (the common
    /// case, which sorts as words); as Values once another type shows up.
    struct Keys {
        size_t nk = 0;
        bool ints = true;
        std::vector<int64_t> ivals;   ///< ints: nk per row
        std::vector<TypeId> types;    ///< ints: nk per row; kNull marks NULL
        std::vector<Value> vals;      ///< !ints: nk per row
        std::vector<Value> args;      ///< functions with an argument: one per row
        std::vector<Value> defaults;  ///< LAG and LEAD with a default: one per row
        std::vector<Value> scratch;

        void Reset(const sql::WindowFunc& w) {
            nk = w.partition_by.size() + w.order_by.size();
            ints = true;
            ivals.clear();
            types.clear();
            vals.clear();
            args.clear();
            defaults.clear();
            scratch.resize(nk);
        }
        void Add(const sql::WindowFunc& w, const EvalRow& r, ExecContext& ctx) {
            const size_t np = w.partition_by.size();
            bool all_ints = ints;
            for (size_t c = 0; c < nk; ++c) {
                scratch[c] = Eval(c < np ? *w.partition_by[c] : *w.order_by[c - np], r, ctx);
                const TypeId t = scratch[c].type();
                if (!scratch[c].is_null() && !IsIntegral(t) && t != TypeId::kTimestamp) all_ints = false;
            }
            if (ints && !all_ints) {  // from now on as Values
                vals.reserve(types.size() + nk);
                for (size_t i = 0; i < types.size(); ++i) {
                    vals.push_back(types[i] == TypeId::kNull ? Value() : Value::Int(types[i], ivals[i]));
                }
                ivals.clear();
                types.clear();
                ints = false;
            }
            for (size_t c = 0; c < nk; ++c) {
                if (!ints) {
                    vals.push_back(scratch[c]);
                } else if (scratch[c].is_null()) {
                    ivals.push_back(0);
                    types.push_back(TypeId::kNull);
                } else {
                    ivals.push_back(scratch[c].AsInt());
                    types.push_back(scratch[c].type());
                }
            }
            if (w.arg) args.push_back(Eval(*w.arg, r, ctx));
            if (w.default_value) defaults.push_back(Eval(*w.default_value, r, ctx));
        }
        const Value& Arg(size_t i) const { return NthOrNull(args, i); }
        const Value& Default(size_t i) const { return NthOrNull(defaults, i); }
        /// Row i's value of a per-row list, or NULL when the function has none.
        static const Value& NthOrNull(const std::vector<Value>& list, size_t i) {
            static const Value kNone;
            return list.empty() ? kNone : list[i];
        }
    };

    /// One function's results by input row: ROW_NUMBER, RANK and DENSE_RANK as integers (turned
    /// into Values as Next hands them out), the aggregates as Values.
    struct Out {
        std::vector<int64_t> ranks;
        std::vector<Value> values;
    };

    void Compute(const sql::WindowFunc& w, const Keys& keys, Out* out) {
        const size_t n = n_;
        const size_t no = w.order_by.size();
        // The rows in window order, and where partitions and peer groups start in it.
        std::vector<uint32_t>& order = order_;
        std::vector<uint8_t>& starts = starts_;  // bit 0: a new partition, bit 1: a new peer group
        order.resize(n);
        starts.resize(n);
        if (!keys.ints || !SortIntegerKeys(w, keys, &order, &starts)) SortValueKeys(w, keys, &order, &starts);
        const bool ranking = w.kind == sql::WindowFuncKind::kRowNumber || w.kind == sql::WindowFuncKind::kRank ||
                             w.kind == sql::WindowFuncKind::kDenseRank;
        if (ranking) {
            out->ranks.resize(n);
        } else {
            out->values.resize(n);
        }
        const bool offset = w.kind == sql::WindowFuncKind::kLag || w.kind == sql::WindowFuncKind::kLead;
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && !(starts[j] & 1)) ++j;
            if (offset) {  // row by row in the partition's order (ties keep input order)
                const auto back = w.kind == sql::WindowFuncKind::kLag;
                const auto step = static_cast<uint64_t>(w.offset);
                for (size_t r = i; r < j; ++r) {
                    const bool there = back ? step <= r - i : step < j - r;  // inside the partition
                    out->values[order[r]] =
                        there ? keys.Arg(order[back ? r - step : r + step]) : keys.Default(order[r]);
                }
                i = j;
                continue;
            }
            Running acc(w);
            int64_t dense = 0;
            for (size_t p = i; p < j;) {
                size_t q = p + 1;
                while (q < j && no > 0 && !(starts[q] & 2)) ++q;
                if (no == 0) q = j;  // without ORDER BY the whole partition is one peer group
                ++dense;
                if (ranking) {
                    for (size_t r = p; r < q; ++r) {
                        const int64_t v = w.kind == sql::WindowFuncKind::kRowNumber ? static_cast<int64_t>(r - i + 1)
                                          : w.kind == sql::WindowFuncKind::kRank    ? static_cast<int64_t>(p - i + 1)
                                                                                    : dense;
                        out->ranks[order[r]] = v;
                    }
                } else {
                    for (size_t r = p; r < q; ++r) acc.Add(keys.Arg(order[r]));
                    const Value v = acc.Result();
                    for (size_t r = p; r < q; ++r) out->values[order[r]] = v;
                }
                p = q;
            }
            i = j;
        }
    }

    // Sorting by integer keys: each key becomes one or two order-preserving unsigned words (a
    // leading rank word only when the key holds a NULL); records of the words plus the row number
    // are sorted by a stable radix sort over the bits that differ between rows (a GROUP-like key
    // of 1,000 values and an order key below 2^20 take three passes). False (nothing done) when
    // the keys need more than kMaxWords words.
    static constexpr size_t kMaxWords = 4;
    bool SortIntegerKeys(const sql::WindowFunc& w, const Keys& keys, std::vector<uint32_t>* order,
                         std::vector<uint8_t>* starts) {
        const size_t n = order->size(), nk = keys.nk;
        std::vector<uint8_t> has_null(nk, 0);
        for (size_t i = 0; i < n * nk; ++i) {
            if (keys.types[i] == TypeId::kNull) has_null[i % nk] = 1;
        }
        if (SortPacked(w, keys, has_null, order, starts)) return true;
        size_t words = 0, partition_words = 0;
        for (size_t c = 0; c < nk; ++c) {
            words += has_null[c] ? 2 : 1;
            if (c + 1 == w.partition_by.size()) partition_words = words;
        }
        switch (words) {
            case 0:
            case 1:
                SortWords<1>(w, keys, has_null, partition_words, order, starts);
                return true;
            case 2:
                SortWords<2>(w, keys, has_null, partition_words, order, starts);
                return true;
            case 3:
                SortWords<3>(w, keys, has_null, partition_words, order, starts);
                return true;
            case kMaxWords:
                SortWords<kMaxWords>(w, keys, has_null, partition_words, order, starts);
                return true;
            default:
                return false;
        }
    }

    /// The order-preserving word of key c of row i (0 for NULL: its rank word decides).
    static uint64_t KeyWord(const sql::WindowFunc& w, const Keys& keys, size_t i, size_t c) {
        const size_t np = w.partition_by.size();
        if (keys.types[i * keys.nk + c] == TypeId::kNull) return 0;
        const uint64_t u = static_cast<uint64_t>(keys.ivals[i * keys.nk + c]) ^ (uint64_t{1} << 63);
        return c >= np && w.order_descending[c - np] ? ~u : u;
    }

    /// When the bits that differ between rows, over every key, and the row number fit in 64 bits
    /// (a key of 1,000 values, one below 2^20 and a million rows take 50), each row becomes one
    /// word: each key's varying bits (after a 2-bit rank where the key holds a NULL), most
    /// significant key first, then the row number. Sorting those words is sorting the rows.
    /// False (nothing done) when they do not fit.
    bool SortPacked(const sql::WindowFunc& w, const Keys& keys, const std::vector<uint8_t>& has_null,
                    std::vector<uint32_t>* order, std::vector<uint8_t>* starts) {
        const size_t n = order->size(), np = w.partition_by.size(), nk = keys.nk;
        std::vector<int> lo(nk, 0), width(nk, 0);
        int total = 0, partition_bits = 0;
        for (size_t c = 0; c < nk; ++c) {
            uint64_t first = 0, diff = 0;
            bool seen = false;
            for (size_t i = 0; i < n; ++i) {
                if (keys.types[i * nk + c] == TypeId::kNull) continue;
                const uint64_t u = KeyWord(w, keys, i, c);
                if (!seen) first = u, seen = true;
                diff |= u ^ first;
            }
            if (diff) {
                lo[c] = std::countr_zero(diff);
                width[c] = 64 - std::countl_zero(diff) - lo[c];
            }
            total += width[c] + (has_null[c] ? 2 : 0);
            if (c + 1 == np) partition_bits = total;
        }
        const int idx_bits = n > 1 ? 64 - std::countl_zero(static_cast<uint64_t>(n - 1)) : 0;
        if (total + idx_bits > 64) return false;
        recs_.resize(n);
        for (size_t i = 0; i < n; ++i) {
            uint64_t word = 0;
            for (size_t c = 0; c < nk; ++c) {
                const bool null = keys.types[i * nk + c] == TypeId::kNull;
                if (has_null[c]) {
                    const bool nulls_first = c < np || w.order_nulls_first[c - np];
                    word = (word << 2) | (null ? (nulls_first ? 0 : 2) : 1);
                }
                if (width[c] > 0) {
                    const uint64_t bits = null ? 0 : (KeyWord(w, keys, i, c) >> lo[c]) & LowMask(width[c]);
                    word = width[c] == 64 ? bits : (word << width[c]) | bits;
                }
            }
            recs_[i] = idx_bits == 64 ? i : (word << idx_bits) | i;
        }
        RadixSortRange(n, idx_bits, idx_bits + total);
        const uint64_t idx_mask = LowMask(idx_bits);
        const uint64_t key_mask = LowMask(total) << idx_bits;
        const uint64_t part_mask =
            partition_bits == 0 ? 0 : LowMask(partition_bits) << (idx_bits + total - partition_bits);
        for (size_t r = 0; r < n; ++r) {
            (*order)[r] = static_cast<uint32_t>(recs_[r] & idx_mask);
            if (r == 0) {
                (*starts)[r] = 3;
                continue;
            }
            const uint64_t changed = recs_[r] ^ recs_[r - 1];
            const bool part = (changed & part_mask) != 0;
            const bool peer = (changed & key_mask) != 0;
            (*starts)[r] = static_cast<uint8_t>((part ? 1 : 0) | (peer ? 2 : 0));
        }
        return true;
    }

    static uint64_t LowMask(int bits) { return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1; }

    /// Stable LSD radix sort of the n words of recs_ by their bits [from, to).
    void RadixSortRange(size_t n, int from, int to) {
        if (n < 2 || from >= to) return;
        const int bits = n < 65536 ? 8 : 11;
        const size_t buckets = size_t{1} << bits;
        recs_tmp_.resize(n);
        counts_.resize(buckets);
        for (int shift = from; shift < to; shift += bits) {
            const uint64_t mask = LowMask(std::min(bits, to - shift));
            const uint64_t* src = recs_.data();
            uint64_t* dst = recs_tmp_.data();
            std::fill(counts_.begin(), counts_.end(), 0);
            for (size_t i = 0; i < n; ++i) ++counts_[(src[i] >> shift) & mask];
            uint32_t sum = 0;
            for (uint32_t& c : counts_) sum += std::exchange(c, sum);
            for (size_t i = 0; i < n; ++i) dst[counts_[(src[i] >> shift) & mask]++] = src[i];
            recs_.swap(recs_tmp_);
        }
    }

    template <size_t W>
    void SortWords(const sql::WindowFunc& w, const Keys& keys, const std::vector<uint8_t>& has_null,
                   size_t partition_words, std::vector<uint32_t>* order, std::vector<uint8_t>* starts) {
        constexpr size_t R = W + 1;  // a record: W key words, then the row number
        const size_t n = order->size(), np = w.partition_by.size(), nk = keys.nk;
        recs_.resize(n * R);
        uint64_t* rec = recs_.data();
        for (size_t i = 0; i < n; ++i, rec += R) {
            size_t k = 0;
            for (size_t c = 0; c < nk; ++c) {
                const bool null = keys.types[i * nk + c] == TypeId::kNull;
                const bool desc = c >= np && w.order_descending[c - np];
                const bool nulls_first = c < np || w.order_nulls_first[c - np];
                if (has_null[c]) rec[k++] = null ? (nulls_first ? 0 : 2) : 1;
                uint64_t u = null ? 0 : static_cast<uint64_t>(keys.ivals[i * nk + c]) ^ (uint64_t{1} << 63);
                rec[k++] = desc ? ~u : u;
            }
            for (; k < W; ++k) rec[k] = 0;
            rec[W] = i;
        }
        RadixSort<W>(n);
        auto same = [&](const uint64_t* a, const uint64_t* b, size_t from, size_t to) {
            for (size_t k = from; k < to; ++k) {
                if (a[k] != b[k]) return false;
            }
            return true;
        };
        rec = recs_.data();
        for (size_t r = 0; r < n; ++r, rec += R) {
            (*order)[r] = static_cast<uint32_t>(rec[W]);
            if (r == 0) {
                (*starts)[r] = 3;
                continue;
            }
            const bool part = !same(rec - R, rec, 0, partition_words);
            const bool peer = part || !same(rec - R, rec, partition_words, W);
            (*starts)[r] = static_cast<uint8_t>((part ? 1 : 0) | (peer ? 2 : 0));
        }
    }

    /// Sorts the n records of recs_ (W key words and a row number each) by their key words, the
    /// first most significant; equal keys keep their order (least significant digit first, each
    /// pass stable). Digits where every record holds the same bits are skipped.
    template <size_t W>
    void RadixSort(size_t n) {
        constexpr size_t R = W + 1;
        if (n < 2) return;
        uint64_t diff[W] = {};
        const uint64_t* first = recs_.data();
        for (const uint64_t* rec = first; rec < first + n * R; rec += R) {
            for (size_t k = 0; k < W; ++k) diff[k] |= rec[k] ^ first[k];
        }
        const int bits = n < 65536 ? 8 : 11;
        const size_t buckets = size_t{1} << bits;
        recs_tmp_.resize(n * R);
        counts_.resize(buckets);
        for (size_t k = W; k-- > 0;) {
            if (diff[k] == 0) continue;
            const int lo = std::countr_zero(diff[k]), hi = 64 - std::countl_zero(diff[k]);
            for (int shift = lo; shift < hi; shift += bits) {
                const uint64_t* src = recs_.data();
                uint64_t* dst = recs_tmp_.data();
                std::fill(counts_.begin(), counts_.end(), 0);
                for (size_t i = 0; i < n; ++i) ++counts_[(src[i * R + k] >> shift) & (buckets - 1)];
                uint32_t sum = 0;
                for (uint32_t& c : counts_) sum += std::exchange(c, sum);
                for (size_t i = 0; i < n; ++i) {
                    const uint32_t to = counts_[(src[i * R + k] >> shift) & (buckets - 1)]++;
                    std::memcpy(dst + size_t{to} * R, src + i * R, R * sizeof(uint64_t));
                }
                recs_.swap(recs_tmp_);
            }
        }
    }

    // Any key types: a stable sort of row numbers comparing Values.
    static void SortValueKeys(const sql::WindowFunc& w, const Keys& keys, std::vector<uint32_t>* order,
                              std::vector<uint8_t>* starts) {
        const size_t n = order->size(), np = w.partition_by.size(), no = w.order_by.size(), nk = keys.nk;
        std::vector<Value> converted;
        const std::vector<Value>* vals = &keys.vals;
        if (keys.ints) {  // integer keys that need too many words
            converted.reserve(keys.types.size());
            for (size_t i = 0; i < keys.types.size(); ++i) {
                converted.push_back(keys.types[i] == TypeId::kNull ? Value()
                                                                   : Value::Int(keys.types[i], keys.ivals[i]));
            }
            vals = &converted;
        }
        auto cmp = [&](const Value& x, const Value& y, bool desc, bool nulls_first) {
            if (x.is_null() || y.is_null()) {
                if (x.is_null() && y.is_null()) return 0;
                return x.is_null() == nulls_first ? -1 : 1;
            }
            int c = CompareValues(x, y);
            return desc ? -c : c;
        };
        std::vector<uint32_t>& idx = *order;
        for (size_t i = 0; i < n; ++i) idx[i] = static_cast<uint32_t>(i);
        std::stable_sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
            const Value* ka = vals->data() + a * nk;
            const Value* kb = vals->data() + b * nk;
            for (size_t c = 0; c < np; ++c) {
                if (int r = cmp(ka[c], kb[c], false, true)) return r < 0;
            }
            for (size_t c = 0; c < no; ++c) {
                if (int r = cmp(ka[np + c], kb[np + c], w.order_descending[c], w.order_nulls_first[c])) return r < 0;
            }
            return false;
        });
        auto same = [&](uint32_t a, uint32_t b, size_t from, size_t to) {
            for (size_t c = from; c < to; ++c) {
                if (!GroupEquals((*vals)[a * nk + c], (*vals)[b * nk + c])) return false;
            }
            return true;
        };
        for (size_t r = 0; r < n; ++r) {
            if (r == 0) {
                (*starts)[r] = 3;
                continue;
            }
            const bool part = !same(idx[r - 1], idx[r], 0, np);
            const bool peer = part || !same(idx[r - 1], idx[r], np, nk);
            (*starts)[r] = static_cast<uint8_t>((part ? 1 : 0) | (peer ? 2 : 0));
        }
    }

    // The aggregate of the rows seen so far in a partition.
    class Running {
      public:
        explicit Running(const sql::WindowFunc& w) : w_(w) {}
        void Add(const Value& v) {
            if (w_.kind == sql::WindowFuncKind::kCountStar) {
                ++count_;
                return;
            }
            if (v.is_null()) return;
            ++count_;
            switch (w_.kind) {
                case sql::WindowFuncKind::kSum:
                case sql::WindowFuncKind::kAvg:
                    if (w_.type.id == TypeId::kFloat) {
                        fsum_ += v.type() == TypeId::kFloat ? v.AsDouble() : static_cast<double>(v.AsInt());
                    } else {
                        Value x = IsIntegral(v.type()) ? Value::BigInt(v.AsInt()) : v;
                        sum_ = sum_.is_null() ? x : surge::Add(sum_, x);
                    }
                    break;
                case sql::WindowFuncKind::kMin:
                case sql::WindowFuncKind::kMax: {
                    int c = best_.is_null() ? 0 : CompareValues(v, best_);
                    if (best_.is_null() || (w_.kind == sql::WindowFuncKind::kMin ? c < 0 : c > 0)) best_ = v;
                    break;
                }
                default:
                    break;
            }
        }
        Value Result() const {
            switch (w_.kind) {
                case sql::WindowFuncKind::kCountStar:
                case sql::WindowFuncKind::kCount:
                    return Value::BigInt(count_);
                case sql::WindowFuncKind::kSum:
                    if (count_ == 0) return Value::Null(w_.type.id);
                    return w_.type.id == TypeId::kFloat ? Value::Float(fsum_) : sum_;
                case sql::WindowFuncKind::kAvg:
                    if (count_ == 0) return Value::Null(w_.type.id);
                    if (w_.type.id == TypeId::kDecimal) return Divide(sum_, Value::Dec(Decimal::FromInt(count_)));
                    return Value::Float((sum_.is_null() ? fsum_ : static_cast<double>(sum_.AsInt())) /
                                        static_cast<double>(count_));
                case sql::WindowFuncKind::kMin:
                case sql::WindowFuncKind::kMax:
                    return best_.is_null() ? Value::Null(w_.type.id) : best_;
                default:
                    return Value();
            }
        }

      private:
        const sql::WindowFunc& w_;
        int64_t count_ = 0;
        double fsum_ = 0;
        Value sum_;
        Value best_;
    };

    std::unique_ptr<Operator> child_;
    const EvalRow* outer_ = nullptr;
    std::vector<size_t> keep_;    ///< input columns the parent reads
    std::vector<bool> computed_;  ///< per function: the parent reads its column
    std::vector<Keys> keys_;      ///< per function
    std::vector<Value> vals_;     ///< kept input columns, keep_.size() per row
    std::vector<Out> outs_;       ///< per function
    // Sorting scratch, kept between executions (a warm execution does not allocate or fault in
    // pages; large fresh allocations cost page faults on every run).
    std::vector<uint64_t> recs_, recs_tmp_;
    std::vector<uint32_t> counts_;
    std::vector<uint32_t> order_;
    std::vector<uint8_t> starts_;
    size_t n_ = 0, pos_ = 0;
};

}  // namespace

std::unique_ptr<Operator> MakeWindowOp(const PlanNode& plan, TableResolver& tables) {
    return std::make_unique<WindowOp>(plan, tables);
}

}  // namespace surge::exec
