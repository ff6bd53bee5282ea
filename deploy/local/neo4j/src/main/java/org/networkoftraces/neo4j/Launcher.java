package org.networkoftraces.neo4j;

import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.internal.kernel.api.connectioninfo.ClientConnectionInfo;
import org.neo4j.internal.kernel.api.security.AuthenticationResult;
import org.neo4j.kernel.api.security.AuthManager;
import org.neo4j.kernel.api.security.AuthToken;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.io.ByteUnit;

/**
 * Runs the Neo4j Community engine in-process with the Bolt connector listening on
 * 127.0.0.1:&lt;port&gt;, authentication enabled and the store under &lt;home&gt;.
 *
 * <pre>
 *   java [flags] -cp &lt;classes&gt;:&lt;deps&gt; org.networkoftraces.neo4j.Launcher \
 *       --home &lt;dir&gt; --bolt-port &lt;port&gt; --password-file &lt;file&gt; [--pagecache-mb &lt;MiB&gt;]
 * </pre>
 *
 * Stdout carries exactly one line: {@code NEO4J READY bolt://127.0.0.1:<port>} once Bolt accepts
 * connections, or {@code NEO4J FAILED: <reason>} if start-up fails (exit code non-zero).
 * Everything else (diagnostics, stack traces, shutdown messages) goes to stderr. SIGTERM/SIGINT
 * shut the DBMS down cleanly through a shutdown hook. With {@code --exit-on-stdin-eof} it also
 * shuts down cleanly when its stdin reaches end-of-file (e.g. the parent process died).
 */
public final class Launcher {

    private static final String HOST = "127.0.0.1";
    private static final String USER = "neo4j";
    private static final int MIN_PASSWORD_LENGTH = 8;

    /** The real stdout; System.out is pointed at stderr so library output never lands here. */
    private static PrintStream stdout;

    private Launcher() {}

    public static void main(String[] args) {
        stdout = System.out;
        System.setOut(System.err);

        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            fail(2, e.getMessage(), null);
            return;
        }

        String password;
        try {
            password = readPassword(options.passwordFile);
        } catch (IllegalArgumentException e) {
            fail(2, e.getMessage(), null);
            return;
        }

        if (!portIsFree(options.boltPort)) {
            fail(1, "bolt port " + options.boltPort + " is in use", null);
            return;
        }

        long startNanos = System.nanoTime();
        DatabaseManagementService dbms;
        try {
            Files.createDirectories(options.home);
            dbms = new DatabaseManagementServiceBuilder(options.home)
                    .setConfig(BoltConnector.enabled, true)
                    .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, options.boltPort))
                    .setConfig(BoltConnector.advertised_address, new SocketAddress(HOST, options.boltPort))
                    .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                    // Bolt waits 5 s + 5 s on shutdown for connections/threads by default; the
                    // databases are already checkpointed and closed by then, so cut it short.
                    .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                    .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                    .setConfig(HttpConnector.enabled, false)
                    .setConfig(HttpsConnector.enabled, false)
                    .setConfig(GraphDatabaseSettings.auth_enabled, true)
                    .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(options.pageCacheMb))
                    .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size, ByteUnit.mebiBytes(256))
                    .setConfig(GraphDatabaseSettings.udc_enabled, false)
                    // Transaction logs: no 256 MiB preallocation per database, smaller files,
                    // bounded retention (a local store does not need days of history).
                    .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                    .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(64))
                    .setConfig(GraphDatabaseSettings.keep_logical_logs, "128M size")
                    .build();
        } catch (Throwable t) {
            fail(1, describeStartupFailure(t, options), t);
            return;
        }

        AtomicBoolean stopped = new AtomicBoolean(false);
        CountDownLatch stoppedLatch = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (stopped.compareAndSet(false, true)) {
                long t0 = System.nanoTime();
                System.err.println("neo4j launcher: shutting down");
                try {
                    dbms.shutdown();
                    System.err.printf("neo4j launcher: stopped in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
                } catch (Throwable t) {
                    System.err.println("neo4j launcher: error during shutdown: " + t);
                }
            }
            stoppedLatch.countDown();
        }, "neo4j-launcher-shutdown"));

        System.err.printf("neo4j launcher: dbms started in %d ms%n", (System.nanoTime() - startNanos) / 1_000_000);
        try {
            long t0 = System.nanoTime();
            applyPassword(dbms, password);
            System.err.printf("neo4j launcher: password check took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            awaitBolt(options.boltPort, 60_000);
        } catch (Throwable t) {
            String reason = t.getMessage() == null ? t.toString() : t.getMessage();
            // Print the failure first, then let the shutdown hook close the store.
            fail(1, oneLine(reason), t);
            return;
        }

        stdout.println("NEO4J READY bolt://" + HOST + ":" + options.boltPort);
        stdout.flush();

        if (options.exitOnStdinEof) {
            Thread watcher = new Thread(() -> {
                try {
                    byte[] buf = new byte[256];
                    while (System.in.read(buf) >= 0) {
                        // discard
                    }
                } catch (IOException ignored) {
                    // treat like EOF
                }
                System.err.println("neo4j launcher: stdin closed, stopping");
                System.exit(0);
            }, "neo4j-launcher-stdin-watch");
            watcher.setDaemon(true);
            watcher.start();
        }

        try {
            stoppedLatch.await();
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Makes the neo4j user's password equal to {@code password} with no change required. Runs
     * against the system database through the embedded API, which is not subject to Bolt auth.
     */
    private static void applyPassword(DatabaseManagementService dbms, String password) {
        GraphDatabaseService system = dbms.database("system");
        // Fast path (no Cypher planning, which costs seconds on a cold JVM): log in the way Bolt
        // would. SUCCESS means the password matches and no change is required.
        if (checkLogin(system, password) == AuthenticationResult.SUCCESS) {
            System.err.println("neo4j launcher: password of user neo4j unchanged");
            return;
        }
        Boolean changeRequired = system.executeTransactionally(
                "SHOW USERS YIELD user, passwordChangeRequired WHERE user = $user RETURN passwordChangeRequired",
                Map.of("user", USER),
                result -> result.hasNext() ? (Boolean) result.next().get("passwordChangeRequired") : null);

        if (changeRequired == null) {
            system.executeTransactionally(
                    "CREATE USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
            System.err.println("neo4j launcher: created user neo4j");
            return;
        }
        try {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
            System.err.println("neo4j launcher: password of user neo4j set from password file");
        } catch (RuntimeException e) {
            if (!isSamePasswordError(e)) {
                throw e;
            }
            // Password already matches the file.
            if (changeRequired) {
                system.executeTransactionally("ALTER USER neo4j SET PASSWORD CHANGE NOT REQUIRED");
            }
            System.err.println("neo4j launcher: password of user neo4j unchanged");
        }
    }

    private static AuthenticationResult checkLogin(GraphDatabaseService system, String password) {
        try {
            AuthManager authManager = ((GraphDatabaseAPI) system).getDependencyResolver().resolveDependency(AuthManager.class);
            return authManager
                    .login(AuthToken.newBasicAuthToken(USER, password.getBytes(StandardCharsets.UTF_8)),
                            ClientConnectionInfo.EMBEDDED_CONNECTION)
                    .subject()
                    .getAuthenticationResult();
        } catch (Exception e) {
            System.err.println("neo4j launcher: login check unavailable, falling back to Cypher: " + e);
            return null;
        }
    }

    private static boolean isSamePasswordError(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (m != null && m.contains("Old password and new password cannot be the same")) {
                return true;
            }
        }
        return false;
    }

    private static String readPassword(Path file) {
        String raw;
        try {
            raw = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read password file " + file + " (" + e.getClass().getSimpleName() + ")");
        }
        // Only trailing line breaks are stripped; other whitespace is part of the password.
        String pw = raw.replaceAll("[\\r\\n]+$", "");
        if (pw.isEmpty()) {
            throw new IllegalArgumentException("password file " + file + " is empty");
        }
        if (pw.contains("\n") || pw.contains("\r")) {
            throw new IllegalArgumentException("password file " + file + " must hold a single line");
        }
        if (pw.codePointCount(0, pw.length()) < MIN_PASSWORD_LENGTH) {
            throw new IllegalArgumentException(
                    "password in " + file + " is shorter than " + MIN_PASSWORD_LENGTH + " characters");
        }
        return pw;
    }

    private static boolean portIsFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void awaitBolt(int port, long timeoutMs) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        IOException last = null;
        while (System.currentTimeMillis() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(HOST, port), 1000);
                return;
            } catch (IOException e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw new IOException("bolt did not start listening on port " + port + " within " + timeoutMs + " ms", last);
    }

    private static String describeStartupFailure(Throwable t, Options options) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c.getMessage() == null ? "" : c.getMessage();
            String cls = c.getClass().getName();
            if (c instanceof BindException || cls.endsWith("PortBindException") || m.contains("Address already in use")) {
                return "bolt port " + options.boltPort + " is in use";
            }
            if (cls.endsWith("FileLockException") || m.contains("locked by another process")) {
                return "store in " + options.home + " is locked by another process";
            }
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = root.getMessage() == null ? root.getClass().getName() : root.getClass().getSimpleName() + ": " + root.getMessage();
        return oneLine(msg);
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    }

    private static void fail(int code, String reason, Throwable t) {
        if (t != null) {
            t.printStackTrace(System.err);
        }
        String line = "NEO4J FAILED: " + oneLine(reason);
        System.err.println(line);
        stdout.println(line);
        stdout.flush();
        System.exit(code);
    }

    private static final class Options {
        Path home;
        int boltPort = -1;
        Path passwordFile;
        boolean exitOnStdinEof;
        long pageCacheMb = 256;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--exit-on-stdin-eof")) {
                    o.exitOnStdinEof = true;
                    continue;
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value for " + a + "; " + usage());
                }
                String v = args[++i];
                switch (a) {
                    case "--home" -> o.home = Path.of(v).toAbsolutePath().normalize();
                    case "--bolt-port" -> {
                        try {
                            o.boltPort = Integer.parseInt(v);
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("bad --bolt-port " + v);
                        }
                        if (o.boltPort < 1 || o.boltPort > 65535) {
                            throw new IllegalArgumentException("bad --bolt-port " + v);
                        }
                    }
                    case "--password-file" -> o.passwordFile = Path.of(v);
                    case "--pagecache-mb" -> {
                        try {
                            o.pageCacheMb = Long.parseLong(v);
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("bad --pagecache-mb " + v);
                        }
                        if (o.pageCacheMb < 16) {
                            throw new IllegalArgumentException("bad --pagecache-mb " + v + " (at least 16)");
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown argument " + a + "; " + usage());
                }
            }
            if (o.home == null || o.boltPort < 0 || o.passwordFile == null) {
                throw new IllegalArgumentException(usage());
            }
            return o;
        }

        static String usage() {
            return "usage: Launcher --home <dir> --bolt-port <port> --password-file <file> [--pagecache-mb <MiB>] [--exit-on-stdin-eof]";
        }
    }
}
