package hotswap.bench;

import hotswap.wire.CopyRequest;
import hotswap.wire.PageHashes;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Target 9 of {@code make bench}: hashes a database's pages as either side of a delta transfer
 * does ({@link PageHashes#of}), and prints the seconds the hashing took, without the JVM's
 * start-up. {@link DeltaBench} runs it with the client's JVM flags and without them.
 *
 * <p>Usage: {@code HashPages FILE}.
 */
public final class HashPages {
    private HashPages() {
    }

    public static void main(String[] args) throws Exception {
        try (FileChannel file = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ)) {
            CopyRequest.Pages pages = PageHashes.shape(file);
            if (pages == null) {
                throw new IllegalArgumentException(args[0] + " is not a SQLite database of whole pages");
            }
            long t = System.nanoTime();
            PageHashes.of(file, pages.pageSize(), pages.count(), n -> { }, null);
            System.out.println((System.nanoTime() - t) / 1e9);
        }
    }
}
