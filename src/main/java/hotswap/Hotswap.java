package hotswap;

import com.sun.net.httpserver.Filter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * Lets the {@code hotswap} command replace or snapshot an app's SQLite databases while the app
 * serves. Build one per app, add {@link #filter()} to every HTTP context, take connections from
 * {@link ManagedDatabase#dataSource()}, and {@link #start()} it:
 * <pre>{@code
 * Hotswap hotswap = Hotswap.builder().database(Path.of("db/production.sqlite3")).build();
 * HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 8080), 0);
 * server.setExecutor(Executors.newFixedThreadPool(16));
 * server.createContext("/items", handler).getFilters().add(0, hotswap.filter());
 * hotswap.start();
 * server.start();
 * }</pre>
 *
 * <p>Once closed, a Hotswap cannot be started again.
 */
public final class Hotswap implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Hotswap.class.getName());

    /** Default control socket, relative to the app's working directory. */
    public static final Path DEFAULT_SOCKET = Path.of(hotswap.wire.Protocol.DEFAULT_SOCKET);
    /** Default longest wait of a swap for in-flight requests before it is abandoned. */
    public static final Duration DEFAULT_SWAP_TIMEOUT = Duration.ofSeconds(5);
    /**
     * Default longest wait for a client that sends no command (or no answer the server asked for)
     * before its connection is closed. The bytes of a push are not under it: their producer may
     * pause as long as it likes.
     */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(10);
    /**
     * Default longest time a write to a client may make no progress (a client that stopped
     * reading a streamed pull) before its connection is closed and its snapshot freed.
     */
    public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(30);
    /** Default number of commands served at once; further connections are told the server is busy. */
    public static final int DEFAULT_MAX_SESSIONS = 4;
    /** The word that names the first managed database on the command line when no database has that name. */
    public static final String FIRST_DATABASE = "database";
    /** Whether {@link #start()} registers the {@link ServerMXBean} and {@link DatabaseMXBean}s by default. */
    public static final boolean DEFAULT_JMX = true;

    private final Map<Path, ManagedDatabase> databases;
    private final Path socket;
    private final long swapTimeoutMillis;
    private final long idleTimeoutMillis;
    private final long writeTimeoutMillis;
    private final int maxSessions;
    private final boolean jmx;
    private final SwapGate gate = new SwapGate();
    private final Filter filter = new GateFilter(gate);
    /** Swaps run one at a time, since they share the gate. */
    final ReentrantLock swapLock = new ReentrantLock(true);
    /** Volatile: the status and the MXBeans read it without the lock that close() holds while swaps finish. */
    private volatile ControlServer server;
    private volatile long startedMillis;
    private Jmx beans;
    private boolean closed;

    private Hotswap(Builder b) {
        this.databases = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.databases));
        this.socket = b.socket;
        this.swapTimeoutMillis = b.swapTimeout.toMillis();
        this.idleTimeoutMillis = b.idleTimeout.toMillis();
        this.writeTimeoutMillis = b.writeTimeout.toMillis();
        this.maxSessions = b.maxSessions;
        this.jmx = b.jmx;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The managed database at {@code path} (resolved the same way as at registration).
     *
     * @throws IllegalArgumentException when no managed database has that path
     */
    public ManagedDatabase database(Path path) {
        Path real = realPath(path);
        ManagedDatabase db = databases.get(real);
        if (db == null) {
            throw new IllegalArgumentException(path + " is not a managed database; managed: " + databases.keySet());
        }
        return db;
    }

    /**
     * The managed database named {@code name} (see {@link ManagedDatabase#name()}).
     *
     * @throws IllegalArgumentException when no managed database, or more than one, has that name
     */
    public ManagedDatabase database(String name) {
        try {
            ManagedDatabase db = named(name);
            if (db != null) {
                return db;
            }
        } catch (CommandFailure e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        throw new IllegalArgumentException("no managed database is named " + name + "; managed: " + describeDatabases());
    }

    /**
     * The managed database a command-line word names, or null for none: the one of that name; if
     * none has it, {@code database} means the first one, as in the Ruby gem.
     *
     * @throws CommandFailure when several databases have that name
     */
    ManagedDatabase named(String name) throws CommandFailure {
        List<ManagedDatabase> found = new ArrayList<>();
        for (ManagedDatabase db : databases.values()) {
            if (db.name().equals(name)) {
                found.add(db);
            }
        }
        if (found.size() > 1) {
            throw new CommandFailure(name + " names " + found.size() + " managed databases: " + describe(found)
                    + "; nothing changed. Name it by its path, or give each its own name with Hotswap.builder().database(name, path)");
        }
        if (found.isEmpty() && name.equals(FIRST_DATABASE)) {
            return databases.values().iterator().next();
        }
        return found.isEmpty() ? null : found.get(0);
    }

    /** Every managed database as {@code name (path)}, for messages. */
    String describeDatabases() {
        return describe(databases.values());
    }

    private static String describe(java.util.Collection<ManagedDatabase> dbs) {
        StringBuilder b = new StringBuilder();
        for (ManagedDatabase db : dbs) {
            b.append(b.length() == 0 ? "" : ", ").append(db.name()).append(" (").append(db.path()).append(')');
        }
        return b.toString();
    }

    /** Every managed database, in registration order. */
    public List<ManagedDatabase> databases() {
        return List.copyOf(databases.values());
    }

    /** The gate requests pass; use it directly for work outside HTTP requests. */
    public SwapGate gate() {
        return gate;
    }

    /**
     * A filter that runs each request inside the {@link #gate()}; add it to every HttpContext, before
     * the app's own filters ({@code getFilters().add(0, hotswap.filter())}), so that a filter that
     * holds a connection around the handler (a transaction per request) runs inside the gate too.
     */
    public Filter filter() {
        return filter;
    }

    /** The control socket's path, as configured. */
    public Path socket() {
        return socket;
    }

    /**
     * Listens on the control socket and, once it holds it, removes temp files left by a crashed
     * swap (not before: an app refused because another one serves there leaves that one's files
     * alone), except beside a database that another running app manages too: they may be its own.
     *
     * @throws IOException when the socket cannot be bound, another server already answers there,
     *                     or its directory is writable by other users
     */
    public synchronized void start() throws IOException {
        if (closed) {
            throw new IllegalStateException("this Hotswap was closed; build a new one");
        }
        if (server != null) {
            throw new IllegalStateException("already started");
        }
        Sqlite.requireDriver();
        ControlServer s = new ControlServer(this);
        startedMillis = System.currentTimeMillis(); // before the first status can ask
        s.start();
        server = s;
        if (jmx) {
            beans = Jmx.register(this);
        }
    }

    /**
     * Stops listening, ends running commands and removes the socket file. A push that has begun
     * swapping finishes first, so its client is told the true outcome; the others are stopped (a
     * push's integrity check cancelled) and have removed their temp files when this returns: it
     * waits for all of them for at most the swap timeout plus a margin. No swap begins once
     * closing has started. Then the connection each {@link ManagedDatabase#dataSource()} keeps
     * open between requests is closed, and is not kept again; connections the app still holds
     * stay open, and a later {@code getConnection()} still works.
     */
    @Override
    public synchronized void close() {
        closed = true;
        if (beans != null) {
            beans.unregister();
            beans = null;
        }
        if (server != null) {
            server.stop();
            server = null;
        }
        // The connection each DataSource keeps between requests would hold the database open past close.
        for (ManagedDatabase db : databases.values()) {
            try {
                db.swappableDataSource().retire();
            } catch (java.sql.SQLException e) {
                LOG.warning(() -> "closing the idle connection to " + db.path() + ": " + e.getMessage());
            }
        }
    }

    long swapTimeoutMillis() {
        return swapTimeoutMillis;
    }

    long idleTimeoutMillis() {
        return idleTimeoutMillis;
    }

    long writeTimeoutMillis() {
        return writeTimeoutMillis;
    }

    int maxSessions() {
        return maxSessions;
    }

    /** When {@link #start()} began to listen, in epoch milliseconds; 0 before. */
    long startedMillis() {
        return startedMillis;
    }

    /** Control sessions running now; 0 when not listening. */
    int sessionsInUse() {
        ControlServer s = server;
        return s == null ? 0 : s.sessionsInUse();
    }

    /** The managed database at this client path, or null. A path that does not exist matches by its directory's real path and its name. */
    ManagedDatabase findManaged(String path) {
        try {
            return databases.get(realPath(Path.of(path)));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * The path the kernel means: symbolic links resolved, through the file system only. Textual
     * normalization would be wrong: in {@code db/link/../x}, {@code ..} is the parent of the
     * directory {@code link} points to. A missing file is its directory's real path plus its name.
     *
     * @throws IllegalArgumentException for a missing path whose last name is {@code .} or {@code ..}
     * @throws UncheckedIOException when the file system cannot resolve the path
     */
    static Path realPath(Path path) {
        Path absolute = path.toAbsolutePath();
        try {
            if (Files.exists(absolute)) {
                return absolute.toRealPath();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path parent = absolute.getParent();
        Path name = absolute.getFileName();
        if (parent == null || name == null) {
            return absolute;
        }
        if (name.toString().equals(".") || name.toString().equals("..")) {
            throw new IllegalArgumentException(path + " names a directory that does not exist, not a database file");
        }
        return realPath(parent).resolve(name);
    }

    /** Configures a {@link Hotswap}. Every setting has a default except the databases. */
    public static final class Builder {
        private final Map<Path, ManagedDatabase> databases = new LinkedHashMap<>();
        /** The names given explicitly, which no other database may share. */
        private final java.util.Set<String> named = new java.util.HashSet<>();
        private Path socket = DEFAULT_SOCKET;
        private Duration swapTimeout = DEFAULT_SWAP_TIMEOUT;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Duration writeTimeout = DEFAULT_WRITE_TIMEOUT;
        private int maxSessions = DEFAULT_MAX_SESSIONS;
        private boolean jmx = DEFAULT_JMX;

        private Builder() {
        }

        /** Manages the SQLite file at {@code path}, named by its file name; its directory must exist. */
        public Builder database(Path path) {
            return database(path, new Properties());
        }

        /**
         * Manages the SQLite file at {@code path}, named by its file name, opening its connections
         * with these JDBC properties (for example sqlite-jdbc's {@code busy_timeout} or {@code foreign_keys}).
         */
        public Builder database(Path path, Properties connectionProperties) {
            Objects.requireNonNull(path, "path");
            return add(null, path, connectionProperties);
        }

        /**
         * Manages the SQLite file at {@code path} under {@code name}, which the command line may use
         * instead of the path ({@code hotswap cp new.sqlite3 primary}).
         *
         * @throws IllegalArgumentException when another database has that name, or the name has a
         *                                  {@code /}, a {@code :} or a leading {@code -}, or is empty
         */
        public Builder database(String name, Path path) {
            return database(name, path, new Properties());
        }

        /** As {@link #database(String, Path)}, opening its connections with these JDBC properties. */
        public Builder database(String name, Path path, Properties connectionProperties) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(path, "path");
            if (!hotswap.wire.CopyRequest.isName(name)) {
                throw new IllegalArgumentException("cannot name a database \"" + name + "\": a name is not empty and has no '/', "
                        + "':' or NUL, does not start with '-', and is not . or ..");
            }
            return add(name, path, connectionProperties);
        }

        private Builder add(String name, Path path, Properties connectionProperties) {
            Path real = realPath(path);
            if (Files.isDirectory(real)) {
                throw new IllegalArgumentException(path + " is a directory (" + real + "), not a database file; name the file "
                        + "in it, for example " + path.resolve("production.sqlite3"));
            }
            if (!Files.isDirectory(real.getParent())) {
                throw new IllegalArgumentException("directory of " + path + " does not exist; create it first");
            }
            if (real.toString().indexOf('?') >= 0) {
                throw new IllegalArgumentException("a database path may not contain '?': " + real);
            }
            if (databases.containsKey(real)) {
                throw new IllegalArgumentException(path + " is already managed (as " + real + ")");
            }
            for (ManagedDatabase other : databases.values()) {
                refuseCompanion(path, real, other.path());
                refuseCompanion(other.path(), other.path(), real);
            }
            Path fileName = path.getFileName() != null ? path.getFileName() : real.getFileName();
            String given = name != null ? name : fileName.toString();
            for (ManagedDatabase other : databases.values()) {
                // Two file names may repeat (the command line then names them by path); a name given must be unique.
                if (other.name().equals(given) && (name != null || named.contains(given))) {
                    throw new IllegalArgumentException("two databases are named " + given + ": " + other.path() + " and " + real
                            + "; give each its own name with database(name, path)");
                }
            }
            if (name != null) {
                named.add(name);
            }
            Properties copy = new Properties();
            copy.putAll(connectionProperties);
            databases.put(real, new ManagedDatabase(given, real, copy));
            return this;
        }

        /**
         * Refuses a database at a name that belongs to another's files: SQLite takes {@code DB-wal},
         * {@code DB-shm} and {@code DB-journal} for DB's own, and a swap removes them; a push with
         * {@code --keep-previous} renames the replaced DB over {@code DB.previous}.
         */
        private static void refuseCompanion(Path given, Path real, Path database) {
            String what = null;
            for (String suffix : TempFiles.SIDECARS) {
                if (real.equals(database.resolveSibling(database.getFileName() + suffix))) {
                    what = "the " + suffix + " file SQLite keeps beside " + database + ", which a swap of it removes";
                }
            }
            if (real.equals(Swap.previousOf(database))) {
                what = "where a push to " + database + " with --keep-previous keeps the database it replaced";
            }
            if (what != null) {
                throw new IllegalArgumentException("cannot manage both " + database + " and " + given + ": " + real + " is " + what
                        + "; manage a database of another name");
            }
        }

        /** Control socket path. Default: {@link #DEFAULT_SOCKET}. */
        public Builder socket(Path socket) {
            this.socket = Objects.requireNonNull(socket, "socket");
            return this;
        }

        /** How long a swap waits for in-flight requests. Default: {@link #DEFAULT_SWAP_TIMEOUT}. */
        public Builder swapTimeout(Duration timeout) {
            this.swapTimeout = positive(timeout, "swapTimeout");
            return this;
        }

        /**
         * How long a client may take to send its command, or an answer the server waits for; the
         * bytes of a push are not timed. Default: {@link #DEFAULT_IDLE_TIMEOUT}.
         */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = positive(timeout, "idleTimeout");
            return this;
        }

        /** How long a write to a client may make no progress. Default: {@link #DEFAULT_WRITE_TIMEOUT}. */
        public Builder writeTimeout(Duration timeout) {
            this.writeTimeout = positive(timeout, "writeTimeout");
            return this;
        }

        /** Commands served at once. Default: {@link #DEFAULT_MAX_SESSIONS}. */
        public Builder maxSessions(int sessions) {
            if (sessions < 1) {
                throw new IllegalArgumentException("maxSessions must be at least 1, got " + sessions);
            }
            this.maxSessions = sessions;
            return this;
        }

        /**
         * Whether {@link #start()} registers the MXBeans ({@link ServerMXBean} names them) on the
         * platform MBeanServer. Default: {@link #DEFAULT_JMX}.
         */
        public Builder jmx(boolean register) {
            this.jmx = register;
            return this;
        }

        /**
         * @throws IllegalStateException when no database was added
         */
        public Hotswap build() {
            if (databases.isEmpty()) {
                throw new IllegalStateException("no database to manage; call database(path) first");
            }
            return new Hotswap(this);
        }

        private static Duration positive(Duration d, String name) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
