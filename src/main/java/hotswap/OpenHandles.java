package hotswap;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Counts this process's open file descriptors on a file, from {@code /proc/self/fd} (Linux). A
 * SQLite connection the app opened outside hotswap's DataSource and listeners shows up here: such a
 * connection would keep using the old file after a swap, and its journal, opened by name, could be
 * applied to the new one (sqlite.org/howtocorrupt.html §2.5).
 */
final class OpenHandles {
    private static final Path FD_DIR = Path.of("/proc/self/fd");

    private OpenHandles() {
    }

    /** Whether this platform lets us count open handles. */
    static boolean supported() {
        return Files.isDirectory(FD_DIR);
    }

    /** Descriptors of this process open on {@code file}; 0 where {@link #supported()} is false. */
    static int count(Path file) {
        if (!supported()) {
            return 0;
        }
        int count = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(FD_DIR)) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).equals(file)) {
                        count++;
                    }
                } catch (IOException | UnsupportedOperationException e) {
                    // The descriptor was closed while we looked: not open on the file.
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return count;
    }
}
