package hotswap.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads a file's bytes at a position until a buffer is full: one read may return fewer bytes than
 * asked. Callers say in their own terms what a file that ends too soon means.
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class Reads {
    private Reads() {
    }

    /**
     * Reads {@code file} from {@code at} into {@code into} (position to limit), the file position
     * unchanged.
     *
     * @return true when {@code into} is full; false when the file ended first, with {@code into}'s
     *         position after the bytes it did read
     */
    public static boolean readFully(FileChannel file, ByteBuffer into, long at) throws IOException {
        long start = at - into.position();
        while (into.hasRemaining()) {
            if (file.read(into, start + into.position()) < 0) {
                return false;
            }
        }
        return true;
    }
}
