// Status, Result<T> and SqlError: how SurgeDB reports failure.
//
// Errors that end the current statement or transaction travel as SqlError exceptions inside the
// engine and are caught at the statement boundary (exec::Engine), which undoes the statement's
// writes and turns the exception into a Status. Everything that crosses a module, thread or I/O
// boundary returns a [[nodiscard]] Status or Result<T>.
#pragma once

#include <cassert>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace surge {

/// Error codes. Each maps to a SQLSTATE-like five-character class (SqlState()).
enum class ErrorCode : uint8_t {
    kOk = 0,
    kSyntaxError,          ///< 42601: the text does not parse
    kUndefinedTable,       ///< 42P01: unknown table, view or index
    kUndefinedColumn,      ///< 42703: unknown column
    kUndefinedFunction,    ///< 42883: unknown function or procedure
    kUndefinedObject,      ///< 42704: other unknown object
    kDuplicateObject,      ///< 42P07: name already in use
    kAmbiguousColumn,      ///< 42702: column name matches several tables
    kTypeMismatch,         ///< 42804: operand or value of the wrong type
    kGroupingError,        ///< 42803: column must appear in GROUP BY
    kInvalidDefinition,    ///< 42P16: a DDL definition that cannot be accepted
    kNumericOutOfRange,    ///< 22003: overflow, out-of-range cast
    kDivisionByZero,       ///< 22012
    kStringTooLong,        ///< 22001: value longer than the column allows
    kInvalidText,          ///< 22P02: text that does not convert (e.g. '12x' to INTEGER)
    kInvalidParameter,     ///< 22023: wrong parameter count or type
    kNotNullViolation,     ///< 23502
    kUniqueViolation,      ///< 23505
    kConstraintViolation,  ///< 23000: other integrity constraint
    kFeatureNotSupported,  ///< 0A000: valid SQL that SurgeDB does not run (message says what)
    kLimitExceeded,        ///< 54000: statement too long, expression too deep, result too large
    kTransactionState,     ///< 25000: begin/commit/rollback used out of order
    kInternal,             ///< XX000: a bug; the message says where
    kIoError,              ///< 58030: a disk read, write or sync failed (durability)
    kResourceExhausted,    ///< 53000: a bounded resource is full (the export backlog); retry later
};

/// Five-character SQLSTATE-like class of an error code.
std::string_view SqlState(ErrorCode code);
/// Short name of an error code, e.g. "unique_violation".
std::string_view ErrorCodeName(ErrorCode code);

/// The outcome of an operation. Must be checked: [[nodiscard]].
class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
    static Status Ok() { return Status(); }

    bool ok() const { return code_ == ErrorCode::kOk; }
    ErrorCode code() const { return code_; }
    const std::string& message() const { return message_; }
    /// "ERROR 23505 unique_violation: ..." style text for logs and shells.
    std::string ToString() const;

  private:
    ErrorCode code_ = ErrorCode::kOk;
    std::string message_;
};

/// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

    bool ok() const { return std::holds_alternative<T>(v_); }
    const Status& status() const {
        static const Status kOk;
        return ok() ? kOk : std::get<Status>(v_);
    }
    T& value() & { return std::get<T>(v_); }
    const T& value() const& { return std::get<T>(v_); }
    T&& value() && { return std::get<T>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

  private:
    std::variant<T, Status> v_;
};

/// Thrown inside statement execution; caught at the statement boundary.
class SqlError : public std::exception {
  public:
    SqlError(ErrorCode code, std::string message) : status_(code, std::move(message)) {}
    explicit SqlError(Status status) : status_(std::move(status)) {}
    const char* what() const noexcept override { return status_.message().c_str(); }
    ErrorCode code() const { return status_.code(); }
    const Status& status() const { return status_; }

  private:
    Status status_;
};

/// Throws SqlError(code, message). Kept out of line so hot callers stay small.
[[noreturn]] void ThrowSqlError(ErrorCode code, std::string message);

}  // namespace surge
