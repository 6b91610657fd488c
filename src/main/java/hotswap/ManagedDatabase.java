package hotswap;

import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import javax.sql.DataSource;

/**
 * One SQLite database that hotswap may replace or snapshot. Obtain it from
 * {@link Hotswap#database(Path)} or {@link Hotswap#database(String)}.
 *
 * <p>The app reaches the database through {@link #dataSource()}, whose connections are closed
 * before a swap and open the new file after it, or, with a pool of its own, registers a
 * {@link SwapListener} that closes and reopens that pool.
 */
public final class ManagedDatabase {
    private final String name;
    private final Path path;
    private final SwappableDataSource dataSource;
    private final List<SwapListener> listeners = new CopyOnWriteArrayList<>();
    /** Pulls hold the read side while they copy; a swap holds the write side. */
    final ReentrantReadWriteLock fileLock = new ReentrantReadWriteLock(true);
    /** Its swaps and pulls, for {@code hotswap status} and JMX. */
    final Activity activity = new Activity();

    ManagedDatabase(String name, Path realPath, Properties connectionProperties) {
        this.name = name;
        this.path = realPath;
        this.dataSource = new SwappableDataSource(Sqlite.url(realPath), connectionProperties);
    }

    /**
     * The name the command line may use for this database: the one given to
     * {@link Hotswap.Builder#database(String, Path)}, else the file name of the path as given.
     */
    public String name() {
        return name;
    }

    /** The database's real path: absolute, with symbolic links resolved at registration. */
    public Path path() {
        return path;
    }

    /** Its write-ahead log beside it, which exists only in WAL mode (and not always then). */
    Path wal() {
        return path.resolveSibling(path.getFileName() + "-wal");
    }

    /**
     * A DataSource whose connections follow swaps: while a swap runs, {@code getConnection()}
     * waits, then opens the new file. Connections open while a swap starts are closed by it, or,
     * with a {@link SwapListener}, waited for; use the database inside the {@link SwapGate} (every
     * HTTP request that passes {@link Hotswap#filter()} does) and that never happens under a
     * request. It is no pool, and keeps one connection of its own open while the database is in
     * service (see the README).
     */
    public DataSource dataSource() {
        return dataSource;
    }

    /** Adds a listener that runs, inside the gate, before and after each swap of this database. */
    public void addSwapListener(SwapListener listener) {
        listeners.add(java.util.Objects.requireNonNull(listener, "listener"));
    }

    /** Removes a listener added with {@link #addSwapListener}. */
    public void removeSwapListener(SwapListener listener) {
        listeners.remove(listener);
    }

    SwappableDataSource swappableDataSource() {
        return dataSource;
    }

    List<SwapListener> listeners() {
        return listeners;
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
