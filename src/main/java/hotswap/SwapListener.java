package hotswap;

/**
 * Code the app runs around each swap of a {@link ManagedDatabase}, for connections hotswap does
 * not manage itself (a pool of the app's own, a cache of query results). Both methods run inside
 * the gate: no request is in flight and new ones wait.
 */
public interface SwapListener {
    /**
     * Runs before the file is replaced: close or suspend every connection to the database here.
     * Throwing abandons the swap; the live database is kept and {@link #afterSwap} still runs.
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
