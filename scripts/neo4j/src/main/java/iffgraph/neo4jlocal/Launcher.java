package iffgraph.neo4jlocal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.QueryExecutionException;
import org.neo4j.io.ByteUnit;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * Runs an embedded Neo4j Community DBMS with only a loopback Bolt connector, for local dev and CI.
 * Driven by scripts/neo4j-local, which passes everything through system properties (and the
 * password through the environment, so it is not visible in `ps`).
 *
 * Contract with the script: once Bolt is bound, the default database is available and the
 * password is set, "bolt://127.0.0.1:PORT" is written atomically to the file named by
 * -Dneo4jlocal.readyFile. The file is removed again on shutdown (SIGTERM runs the hook).
 */
public final class Launcher {
    public static void main(String[] args) throws Exception {
        Path home = Path.of(required("neo4jlocal.home")).toAbsolutePath();
        Path readyFile = Path.of(required("neo4jlocal.readyFile")).toAbsolutePath();
        int port = Integer.parseInt(System.getProperty("neo4jlocal.port", "0")); // 0 = kernel picks a free port
        long pageCache = ByteUnit.parse(System.getProperty("neo4jlocal.pagecache", "1g"));
        String password = System.getenv().getOrDefault("NEO4J_LOCAL_PASSWORD", "");
        boolean auth = !password.isEmpty();
        Files.deleteIfExists(readyFile);

        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home)
                // Only Bolt, only on loopback. Port 0 lets the OS choose, so there is no race
                // between "find a free port" and "bind it"; the real port is read back below.
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.default_listen_address, new SocketAddress("127.0.0.1"))
                // Server-side routing would open a second listener (default :7688); not needed on a
                // single instance and it would clash when two instances run on one machine.
                .setConfig(GraphDatabaseSettings.routing_enabled, false)
                // No usage reporting: the machine has no internet beyond package registries anyway.
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache)
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                // Throwaway test instance: keep the disk footprint small. Without these, each of the
                // two databases (system, neo4j) preallocates a 256 MiB transaction log up front.
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "false")
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                // The query log defaults to VERBOSE with full parameters: big UNWIND $rows batches
                // from the loaders would be written out in full on every call.
                .setConfig(GraphDatabaseSettings.log_queries, GraphDatabaseSettings.LogQueryLevel.OFF)
                // Netty's graceful shutdown waits a 5 s quiet period, twice (10 s per stop);
                // there is nobody to be graceful to on a test instance.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(2))
                .setUserLogProvider(new Log4jLogProvider(System.out, Level.INFO));
        // Escape hatch: any other neo4j.conf-style settings (strictly validated, so typos fail).
        String extraConf = System.getProperty("neo4jlocal.conf", "");
        if (!extraConf.isEmpty()) {
            builder.loadPropertiesFromFile(Path.of(extraConf));
        }

        // SIGTERM/SIGINT (scripts/neo4j-local stop) -> clean shutdown: checkpoint, release locks.
        AtomicReference<DatabaseManagementService> running = new AtomicReference<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(readyFile);
            } catch (Exception ignored) {
                // best effort: the script also removes it
            }
            DatabaseManagementService dbms = running.get();
            if (dbms != null) {
                log("shutting down");
                dbms.shutdown();
                log("stopped");
            }
            stopped.countDown();
        }, "neo4j-local-shutdown"));

        try {
            DatabaseManagementService dbms = builder.build();
            running.set(dbms);
            GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
            GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            if (!system.isAvailable(Duration.ofMinutes(3).toMillis())
                    || !db.isAvailable(Duration.ofMinutes(3).toMillis())) {
                throw new IllegalStateException("databases did not become available");
            }
            if (auth) {
                // Embedded transactions run with full privileges, so the built-in user can be given
                // a fixed password directly, without the "must change password" first login.
                // Runs on every start so NEO4J_LOCAL_PASSWORD changes apply to an existing store.
                try {
                    system.executeTransactionally(
                            "ALTER USER neo4j SET PLAINTEXT PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
                } catch (QueryExecutionException e) {
                    // Neo4j refuses to "change" a password to the one already set: nothing to do.
                    if (e.getMessage() == null || !e.getMessage().contains("cannot be the same")) {
                        throw e;
                    }
                }
            }
            int boltPort = ((GraphDatabaseAPI) db).getDependencyResolver()
                    .resolveDependency(ConnectorPortRegister.class)
                    .getLocalAddress(ConnectorType.BOLT)
                    .getPort();
            String uri = "bolt://127.0.0.1:" + boltPort;
            Path tmp = readyFile.resolveSibling(readyFile.getFileName() + ".tmp");
            Files.writeString(tmp, uri + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, readyFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            log("ready on " + uri + (auth ? " (auth: neo4j/<NEO4J_LOCAL_PASSWORD>)" : " (auth disabled)"));
        } catch (Throwable t) {
            log("startup failed: " + t);
            t.printStackTrace();
            System.exit(1); // runs the shutdown hook, which shuts a half-started DBMS down cleanly
        }
        stopped.await(); // keep the JVM alive until SIGTERM/SIGINT
    }

    private static String required(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("missing -D" + name);
        }
        return v;
    }

    private static void log(String msg) {
        System.out.println("[neo4j-local] " + msg);
        System.out.flush();
    }
}
