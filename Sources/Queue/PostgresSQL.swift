import PostgresNIO

/// SQL text with bound parameters that composes: `"… \(value) …"` binds a value,
/// `\(fragment)` splices another ``SQL`` (its parameters renumbered), `\(unescaped:)`
/// splices constant text. PostgresNIO's own query type numbers its parameters as it is
/// written and cannot be spliced into another.
struct SQL: ExpressibleByStringInterpolation, Sendable {
    enum Part: Sendable {
        case text(String)
        case bind(@Sendable (inout PostgresBindings) -> Void)
    }

    var parts: [Part]

    init(stringLiteral value: String) { parts = [.text(value)] }
    init(stringInterpolation: StringInterpolation) { parts = stringInterpolation.parts }

    /// Appends another fragment (cheap, unlike interpolating a growing value).
    mutating func append(_ other: SQL) { parts += other.parts }

    /// The statement for PostgresNIO: parameters become `$1`, `$2`, … in order.
    var query: PostgresQuery {
        var sql = ""
        var binds = PostgresBindings()
        for part in parts {
            switch part {
            case let .text(text): sql += text
            case let .bind(append):
                append(&binds)
                sql += "$\(binds.count)"
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    /// The values alone, in order: a prepared statement's bindings (its text is ``query``'s,
    /// rendered once; the text never depends on the values).
    var bindings: PostgresBindings {
        var binds = PostgresBindings()
        for case let .bind(append) in parts { append(&binds) }
        return binds
    }

    struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []

        init(literalCapacity: Int, interpolationCount: Int) {}

        mutating func appendLiteral(_ literal: String) { parts.append(.text(literal)) }
        mutating func appendInterpolation<Value: PostgresDynamicTypeEncodable & Sendable>(_ value: Value) {
            parts.append(.bind { $0.append(value) })
        }
        mutating func appendInterpolation<Value: PostgresDynamicTypeEncodable & Sendable>(_ value: Value?) {
            parts.append(.bind { $0.append(value) })
        }
        mutating func appendInterpolation(_ fragment: SQL) { parts += fragment.parts }
        mutating func appendInterpolation(unescaped text: String) { parts.append(.text(text)) }
    }
}
