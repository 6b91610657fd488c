package hotswap;

import hotswap.wire.Frames;
import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * A pulled snapshot that the client took as a file, still open here and already unlinked. Closing
 * it waits for the client to hang up, which it does once done with the file, then closes it:
 * whichever side closes the file last frees its blocks, which takes a while for a large file, and
 * that should be the app, not the client the user is waiting for.
 */
final class TakenSnapshot implements AutoCloseable {
    private final FileChannel file;
    private final Frames frames;

    TakenSnapshot(FileChannel file, Frames frames) {
        this.file = file;
        this.frames = frames;
    }

    @Override
    public void close() throws IOException {
        try {
            frames.readStreamed(); // not under the idle timeout: copying a large file takes as long as it takes
        } catch (IOException e) {
            // Gone: done with the file. Anything the client sends meanwhile ends the wait too.
        }
        file.close();
    }
}
