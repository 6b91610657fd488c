package hotswap.wire;

import java.nio.channels.FileChannel;

/**
 * The B side of {@code make bench}'s A/B of early flushes: the same API as the real
 * {@code hotswap.wire.EarlySync}, flushing nothing, so the final fsync writes the whole file back.
 * Compiled on its own and put ahead of the jar on the bench app's class path; never in the jar or
 * the tests.
 */
public final class EarlySync implements AutoCloseable {
    public static final long STEP = 32L << 20;

    private EarlySync() {
    }

    public static EarlySync start(FileChannel file) {
        return new EarlySync();
    }

    public int flushes() {
        return 0;
    }

    @Override
    public void close() {
    }
}
