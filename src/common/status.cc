// Status text and SQLSTATE mapping.
#include "common/status.h"

namespace surge {

std::string_view SqlState(ErrorCode code) {
    switch (code) {
        case ErrorCode::kOk:
            return "00000";
        case ErrorCode::kSyntaxError:
            return "42601";
        case ErrorCode::kUndefinedTable:
            return "42P01";
        case ErrorCode::kUndefinedColumn:
            return "42703";
        case ErrorCode::kUndefinedFunction:
            return "42883";
        case ErrorCode::kUndefinedObject:
            return "42704";
        case ErrorCode::kDuplicateObject:
            return "42P07";
        case ErrorCode::kAmbiguousColumn:
            return "42702";
        case ErrorCode::kTypeMismatch:
            return "42804";
        case ErrorCode::kGroupingError:
            return "42803";
        case ErrorCode::kInvalidDefinition:
            return "42P16";
        case ErrorCode::kNumericOutOfRange:
            return "22003";
        case ErrorCode::kDivisionByZero:
            return "22012";
        case ErrorCode::kStringTooLong:
            return "22001";
        case ErrorCode::kInvalidText:
            return "22P02";
        case ErrorCode::kInvalidParameter:
            return "22023";
        case ErrorCode::kNotNullViolation:
            return "23502";
        case ErrorCode::kUniqueViolation:
            return "23505";
        case ErrorCode::kConstraintViolation:
            return "23000";
        case ErrorCode::kFeatureNotSupported:
            return "0A000";
        case ErrorCode::kLimitExceeded:
            return "54000";
        case ErrorCode::kTransactionState:
            return "25000";
        case ErrorCode::kInternal:
            return "XX000";
        case ErrorCode::kIoError:
            return "58030";
        case ErrorCode::kResourceExhausted:
            return "53000";
    }
    return "XX000";
}

std::string_view ErrorCodeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::kOk:
            return "ok";
        case ErrorCode::kSyntaxError:
            return "syntax_error";
        case ErrorCode::kUndefinedTable:
            return "undefined_table";
        case ErrorCode::kUndefinedColumn:
            return "undefined_column";
        case ErrorCode::kUndefinedFunction:
            return "undefined_function";
        case ErrorCode::kUndefinedObject:
            return "undefined_object";
        case ErrorCode::kDuplicateObject:
            return "duplicate_object";
        case ErrorCode::kAmbiguousColumn:
            return "ambiguous_column";
        case ErrorCode::kTypeMismatch:
            return "type_mismatch";
        case ErrorCode::kGroupingError:
            return "grouping_error";
        case ErrorCode::kInvalidDefinition:
            return "invalid_definition";
        case ErrorCode::kNumericOutOfRange:
            return "numeric_out_of_range";
        case ErrorCode::kDivisionByZero:
            return "division_by_zero";
        case ErrorCode::kStringTooLong:
            return "string_too_long";
        case ErrorCode::kInvalidText:
            return "invalid_text";
        case ErrorCode::kInvalidParameter:
            return "invalid_parameter";
        case ErrorCode::kNotNullViolation:
            return "not_null_violation";
        case ErrorCode::kUniqueViolation:
            return "unique_violation";
        case ErrorCode::kConstraintViolation:
            return "constraint_violation";
        case ErrorCode::kFeatureNotSupported:
            return "feature_not_supported";
        case ErrorCode::kLimitExceeded:
            return "limit_exceeded";
        case ErrorCode::kTransactionState:
            return "transaction_state";
        case ErrorCode::kInternal:
            return "internal_error";
        case ErrorCode::kIoError:
            return "io_error";
        case ErrorCode::kResourceExhausted:
            return "resource_exhausted";
    }
    return "internal_error";
}

std::string Status::ToString() const {
    if (ok()) return "OK";
    std::string s = "ERROR ";
    s += SqlState(code_);
    s += ' ';
    s += ErrorCodeName(code_);
    s += ": ";
    s += message_;
    return s;
}

void ThrowSqlError(ErrorCode code, std::string message) { throw SqlError(code, std::move(message)); }

}  // namespace surge
