package hotswap;

import hotswap.wire.Frames;
import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * The B side of {@code make bench}'s A/B of the pull's wait for the client's hang-up: the same API
 * as the real {@code hotswap.TakenSnapshot}, closing the snapshot at once, so a client that copies
 * it closes it last and frees its blocks. Compiled on its own against the jar and put ahead of it
 * on the bench app's class path; never in the jar or the tests.
 */
final class TakenSnapshot implements AutoCloseable {
    private final FileChannel file;

    TakenSnapshot(FileChannel file, Frames frames) {
        this.file = file;
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
