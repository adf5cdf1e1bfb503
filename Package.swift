// swift-tools-version: 6.2
import PackageDescription

/// arun: run large pytest suites in parallel, resumably and measurably,
/// on top of a SQLite job queue.
let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")

let package = Package(
    name: "arun",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "arun", targets: ["Cli"]),
        .executable(name: "arun-bench", targets: ["Bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        // Build tool: turns migrations/*.sql and plugin/*.py into Swift source,
        // so a copied `arun` binary carries its schema and its pytest plugin.
        .executableTarget(name: "Embedder", path: "Sources/Embedder"),
        .plugin(name: "EmbedFiles", capability: .buildTool(), dependencies: ["Embedder"]),

        // The database: schema, claims, leases, results, queries. Knows nothing about pytest.
        .target(
            name: "Queue",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            plugins: ["EmbedFiles"]
        ),
        // The Python side: interpreter discovery and the embedded pytest plugin.
        .target(
            name: "Pytest",
            dependencies: [
                "Queue",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            plugins: ["EmbedFiles"]
        ),
        // Turns "run this suite" into shard jobs: discovery, grouping, balancing, static shards.
        .target(
            name: "Planner",
            dependencies: [
                "Queue", "Pytest",
                .product(name: "Yams", package: "Yams"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Claims jobs, drives pytest processes, records outcomes, heartbeats, recovers crashes.
        .target(
            name: "Worker",
            dependencies: [
                "Queue", "Pytest",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Answers from the store's read side (`RunReader`): summaries, progress, reports.
        .target(name: "Reports", dependencies: ["Queue"]),
        // A run's life: plan, start workers (tasks or supervised processes), retry rounds,
        // final status, exit code.
        .target(
            name: "Runner",
            dependencies: ["Queue", "Planner", "Worker", "Pytest", "Reports"]
        ),
        // The `arun` executable: parses, wires and prints; one file per subcommand.
        .executableTarget(
            name: "Cli",
            dependencies: [
                "Queue", "Planner", "Worker", "Pytest", "Reports", "Runner",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `arun-bench`: throughput benchmarks that print JSON.
        .executableTarget(
            name: "Bench",
            dependencies: [
                "Queue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by the test targets: temporary folders, generated suites,
        // the built executables, child processes.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // What every store backend must do, write and read side: any backend's test target runs it.
        .target(name: "QueueConformance", dependencies: ["Queue"], path: "Tests/QueueConformance"),
        // Tests that check the database's rows themselves read them with GRDB.
        .testTarget(name: "QueueTests", dependencies: ["Queue", "QueueConformance", "TestSupport", grdb]),
        .testTarget(name: "PlannerTests", dependencies: ["Planner", "Queue", "Pytest", "TestSupport"]),
        .testTarget(name: "WorkerTests", dependencies: ["Pytest", "Worker"]),
        .testTarget(name: "RunnerTests", dependencies: ["Runner", "Queue", "Planner", "Pytest", "Worker", "TestSupport"]),
        .testTarget(name: "CliTests", dependencies: ["Queue", "TestSupport", grdb]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Queue", "TestSupport", grdb], exclude: ["junit.xsd", "junit-10.xsd"]),
        // Real faults against the built `arun`: kill -9, SIGSTOP, held locks, full and read-only disks.
        .testTarget(name: "FaultTests", dependencies: ["TestSupport", grdb]),
    ]
)
