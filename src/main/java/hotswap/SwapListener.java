package hotswap;

/**
 * Code the app runs around each swap of a {@link ManagedDatabase}, for connections hotswap does
 * not manage itself (a pool of the app's own, a cache of query results). Both methods run inside
 * the gate: no request is in flight and new ones wait.
 *
 * <p>A pool should draw its connections from {@link ManagedDatabase#dataSource()}, which holds new
 * ones back from the moment the gate closes until the new file is in place, so a refill on the
 * pool's own thread opens the new file. Once {@code beforeSwap} has returned, the swap waits for the
 * connections to close (those from the DataSource, and any other of this process on the file), for
 * at most what is left of the swap's timeout, which also bounds the wait for in-flight requests;
 * connections still open then refuse the swap, and nothing changes. A database without listeners
 * has the DataSource's connections closed at once.
 */
public interface SwapListener {
    /**
     * Runs before the file is replaced: have every connection to the database closed here, now or
     * soon on another thread (a pool: suspend it and evict its connections; suspending alone
     * closes nothing). Do not ask {@link ManagedDatabase#dataSource()} for a connection here: it
     * fails, since it holds connections back until the swap is done.
     * Throwing abandons the swap; the live database is kept and {@link #afterSwap} still runs. So
     * does returning after the swap's timeout has run out: requests wait while this runs, and
     * nothing can stop it, so return at once and let connections close on another thread.
     */
    default void beforeSwap(ManagedDatabase database) throws Exception {
    }

    /**
     * Runs after the swap attempt, before requests are let go: reopen or resume connections here.
     *
     * @param replaced true when the file was replaced, false when the swap was abandoned and the
     *                 old database is still in place
     */
    default void afterSwap(ManagedDatabase database, boolean replaced) throws Exception {
    }
}
