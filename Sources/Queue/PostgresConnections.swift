import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The connections one process keeps to the server: an idle stack that grows to the
/// number of concurrent callers (one per worker task), and the retry loop every
/// statement runs in.
///
/// A statement that meets a broken connection (server restarted, network gone) is run
/// again on a new connection, waiting with backoff up to ``reconnectWindow`` seconds;
/// statements are written so that running them twice is harmless (see the callers).
final class PostgresConnections: Sendable {
    let address: PostgresAddress
    /// How long a statement waits for a lost server to come back before giving up.
    let reconnectWindow: Double
    /// Settings sent with every new session (`synchronous_commit`, timeouts).
    let sessionSettings: [String]
    private let configuration: PostgresConnection.Configuration
    private let idle = Mutex<[PostgresConnection]>([])
    private let nextID = Atomic<Int>(0)
    /// Set by the first session that opens: from then on an unreachable server is a
    /// restart to wait out, not an answer.
    private let connectedOnce = Atomic<Bool>(false)
    static let logger = Logger(label: "arun.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    init(address: PostgresAddress, reconnectWindow: Double, sessionSettings: [String]) throws {
        self.address = address
        self.reconnectWindow = reconnectWindow
        self.sessionSettings = sessionSettings
        let tls: PostgresConnection.Configuration.TLS
        switch address.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: address.host, port: address.port, username: address.user, password: address.password,
            database: address.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        self.configuration = configuration
    }

    deinit {
        for connection in idle.withLock({ $0 }) { Self.drop(connection) }
    }

    /// Closes a connection without waiting. The callback keeps the connection alive until
    /// it is closed: PostgresNIO asserts that none is freed while still open.
    static func drop(_ connection: PostgresConnection) {
        let closing: EventLoopFuture<Void> = connection.close()
        closing.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// A new session, with ``sessionSettings`` applied. Errors are ``QueueError``s.
    func connect() async throws -> PostgresConnection {
        let id = nextID.add(1, ordering: .relaxed).newValue
        do {
            let connection = try await PostgresConnection.connect(
                on: PostgresConnection.defaultEventLoopGroup.next(), configuration: configuration, id: id,
                logger: Self.logger).get()
            for setting in sessionSettings {
                try await connection.query(PostgresQuery(unsafeSQL: setting), logger: Self.logger)
            }
            connectedOnce.store(true, ordering: .relaxed)
            return connection
        } catch {
            throw classify(error).queueError(address)
        }
    }

    /// Runs `body` on an idle connection (or a new one). `body` learns whether this is
    /// a repeat after a broken connection, so that a claim can look for the job it may
    /// already hold. Server errors that are not about the connection are thrown as
    /// ``QueueError/database(_:)``; deadlocks and serialization failures are retried.
    func perform<T: Sendable>(_ body: (PostgresConnection, _ isRepeat: Bool) async throws -> T) async throws -> T {
        var deadline: Double?
        var delay = 0.05
        var isRepeat = false
        while true {
            let connection: PostgresConnection
            if let reused = idle.withLock({ $0.popLast() }), !reused.isClosed {
                connection = reused
            } else {
                do {
                    connection = try await connect()
                } catch let error as QueueError {
                    // Before the first session a dead server is an answer; afterwards it
                    // is a restart to wait out (refused, then "starting up").
                    switch error {
                    case .serverUnreachable, .connectionLost:
                        guard isRepeat || connectedOnce.load(ordering: .relaxed) else { throw error }
                        isRepeat = true
                        let limit = deadline ?? Date().timeIntervalSince1970 + reconnectWindow
                        deadline = limit
                        try await pause(&delay, deadline: limit)
                        continue
                    default:
                        throw error
                    }
                }
            }
            do {
                // On the connection's event loop: no thread hop per message of the answer.
                let value = try await withTaskExecutorPreference(PostgresLoopExecutor(connection.eventLoop)) {
                    try await body(connection, isRepeat)
                }
                idle.withLock { $0.append(connection) }
                return value
            } catch {
                let kind = classify(error)
                switch kind {
                case .connection, .unavailable:
                    Self.drop(connection)
                    isRepeat = true
                    let limit = deadline ?? Date().timeIntervalSince1970 + reconnectWindow
                    deadline = limit
                    try await pause(&delay, deadline: limit)
                case .conflict:
                    idle.withLock { $0.append(connection) }
                    try await Task.sleep(nanoseconds: UInt64(Double.random(in: 1_000_000...20_000_000)))
                default:
                    if connection.isClosed { Self.drop(connection) } else { idle.withLock { $0.append(connection) } }
                    throw kind.queueError(address)
                }
            }
        }
    }

    private func pause(_ delay: inout Double, deadline: Double?) async throws {
        if let deadline, Date().timeIntervalSince1970 > deadline {
            throw QueueError.connectionLost(address, seconds: reconnectWindow)
        }
        try await Task.sleep(nanoseconds: UInt64(delay * Double.random(in: 0.5...1.5) * 1e9))
        delay = min(delay * 2, 1)
    }

    /// Thrown when the fate of an earlier transaction is not known yet: try again later.
    struct RetryLater: Error {}

    /// What an error from PostgresNIO or SwiftNIO means for arun.
    enum Failure {
        /// The connection broke: retry on a new one.
        case connection
        /// The server is shutting down or starting up: retry after a pause.
        case unavailable
        /// Deadlock or serialization failure: retry at once.
        case conflict
        case unreachable(String)
        case authentication
        case missingDatabase
        case other(String)
        case passthrough(QueueError)

        func queueError(_ address: PostgresAddress) -> QueueError {
            switch self {
            case .connection: .serverUnreachable(address, reason: "the connection closed")
            case .unavailable: .serverUnreachable(address, reason: "it is starting up or shutting down")
            case .conflict: .database("serialization failure")
            case let .unreachable(reason): .serverUnreachable(address, reason: reason)
            case .authentication: .authenticationFailed(address)
            case .missingDatabase: .missingPostgresDatabase(address)
            case let .other(message): .database(message)
            case let .passthrough(error): error
            }
        }
    }

    func classify(_ error: any Error) -> Failure {
        if let error = error as? QueueError { return .passthrough(error) }
        if error is RetryLater { return .unavailable }
        if let error = error as? PSQLError {
            switch error.code {
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                let message = error.serverInfo?[.message] ?? "server error"
                switch state {
                case "28P01", "28000": return .authentication
                case "3D000": return .missingDatabase
                case "40001", "40P01": return .conflict
                case "57P01", "57P02", "57P03": return .unavailable
                default:
                    if state.hasPrefix("08") { return .connection }
                    return .other("\(message) (SQLSTATE \(state))")
                }
            case .serverClosedConnection, .uncleanShutdown, .clientClosedConnection:
                return .connection
            case .connectionError:
                return .unreachable(Self.reason(error.underlying))
            case .sslUnsupported:
                return .unreachable("the server does not offer TLS; add ?sslmode=disable or prefer")
            case .authMechanismRequiresPassword:
                return .authentication
            default:
                return .other("\(error.code)")
            }
        }
        if error is IOError || error is ChannelError || error is NIOConnectionError { return .connection }
        if error is CancellationError { return .other("cancelled") }
        return .other(String(describing: type(of: error)))
    }

    /// A short reason for a failed connect, without addresses or secrets.
    static func reason(_ error: (any Error)?) -> String {
        guard let error else { return "connection failed" }
        if let error = error as? NIOConnectionError {
            if error.dnsAAAAError != nil || error.dnsAError != nil, error.connectionErrors.isEmpty { return "unknown host" }
            if let first = error.connectionErrors.first { return reason(first.error) }
            return "connection failed"
        }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode)).lowercased()
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "timed out" }
        if let error = error as? SocketAddressError {
            _ = error
            return "unknown host"
        }
        return String(describing: type(of: error))
    }
}
