package hotswap.wire;

/** Internal to hotswap: the client and the server share it; it is not part of the public API. */
public final class Threads {
    private Threads() {
    }

    /**
     * Waits for {@code thread} to end even if interrupted meanwhile, then restores the interrupt:
     * for a thread that holds a file the caller is about to close or read.
     */
    public static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
