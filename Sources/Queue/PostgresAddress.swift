import Foundation

/// A PostgreSQL server and database, from `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE`
/// (or `postgres://`). ``description`` never shows the password.
public struct PostgresAddress: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    /// `sslmode` from the query string: `disable`, `prefer` (default, as libpq) or `require`.
    public var tls: TLSMode

    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    /// True for text that names a PostgreSQL database rather than a file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Parses a URL; the error's message repeats it without its password.
    public init(url text: String) throws {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw QueueError.badAddress(Self.redact(text), reason: "not a postgresql:// URL")
        }
        guard let user = components.user, !user.isEmpty else {
            throw QueueError.badAddress(Self.redact(text), reason: "it names no user")
        }
        guard let host = components.host, !host.isEmpty else {
            throw QueueError.badAddress(Self.redact(text), reason: "it names no host")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw QueueError.badAddress(Self.redact(text), reason: "it names no database (…/DATABASE at the end)")
        }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw QueueError.badAddress(Self.redact(text), reason: "unknown parameter \(item.name) (only sslmode)")
            }
            guard let mode = TLSMode(rawValue: item.value ?? "") else {
                throw QueueError.badAddress(Self.redact(text), reason: "sslmode must be disable, prefer or require")
            }
            tls = mode
        }
        self.user = components.user?.removingPercentEncoding ?? user
        self.password = components.password?.removingPercentEncoding
        self.host = host
        self.port = components.port ?? 5432
        self.database = database.removingPercentEncoding ?? database
        self.tls = tls
    }

    public init(user: String, password: String? = nil, host: String, port: Int = 5432, database: String,
                tls: TLSMode = .prefer) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.tls = tls
    }

    /// The URL without its password: what messages and reports show.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "postgresql://\(user)@\(host):\(port)/\(database)"
    }

    /// The URL with its password, for handing to another arun process.
    public var url: String {
        var components = URLComponents()
        components.scheme = "postgresql"
        components.user = user
        components.password = password
        components.host = host
        components.port = port
        components.path = "/" + database
        if tls != .prefer { components.queryItems = [URLQueryItem(name: "sslmode", value: tls.rawValue)] }
        return components.string ?? description
    }

    /// `postgresql://user:secret@host/db` → `postgresql://user@host/db`, for text that did not parse.
    public static func redact(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text.range(of: "@", options: .backwards) else { return text }
        let credentials = text[scheme.upperBound..<at.lowerBound]
        let user = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return String(text[..<scheme.upperBound]) + user + String(text[at.lowerBound...])
    }
}

/// Where a run's data lives: a SQLite file or a PostgreSQL database.
public enum DatabaseAddress: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresAddress)

    /// `--db` (a path or a postgresql:// URL), else `ARUN_DB`, else `.arun/arun.db`.
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> DatabaseAddress {
        let chosen = explicit.flatMap { $0.isEmpty ? nil : $0 } ?? environment["ARUN_DB"].flatMap { $0.isEmpty ? nil : $0 }
        if let chosen, PostgresAddress.isURL(chosen) { return .postgres(try PostgresAddress(url: chosen)) }
        return .sqlite(path: DatabaseLocation.resolve(explicit: explicit, environment: environment,
                                                      currentDirectory: currentDirectory))
    }

    /// The path, or the URL without its password.
    public var description: String {
        switch self {
        case let .sqlite(path): path
        case let .postgres(address): address.description
        }
    }
}
