package hotswap;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Finds open file descriptors on a file, from {@code /proc} (Linux). A
 * SQLite connection the app opened outside hotswap's DataSource and listeners shows up here: such a
 * connection would keep using the old file after a swap, and its journal, opened by name, could be
 * applied to the new one (sqlite.org/howtocorrupt.html §2.5).
 */
final class OpenHandles {
    private static final Path PROC = Path.of("/proc");
    private static final Path FD_DIR = PROC.resolve("self/fd");

    private OpenHandles() {
    }

    /** Whether this platform lets us count open handles. */
    static boolean supported() {
        return Files.isDirectory(FD_DIR);
    }

    /**
     * Whether any process we may look at has {@code file} (this very inode, under any name) open.
     * True where it cannot be told. Processes of other users are hidden from a non-root app; they
     * are the one blind spot.
     */
    static boolean heldByAnyProcess(Path file) throws IOException {
        if (!supported()) {
            return true;
        }
        Object inode = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        if (inode == null) {
            return true;
        }
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(PROC, p -> isNumber(p.getFileName().toString()))) {
            for (Path process : processes) {
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(process.resolve("fd"))) {
                    for (Path fd : fds) {
                        if (inode.equals(fileKey(fd))) {
                            return true;
                        }
                    }
                } catch (IOException e) {
                    // Gone, or another user's: not ours to look at.
                }
            }
        }
        return false;
    }

    private static Object fileKey(Path fd) {
        try {
            return Files.readAttributes(fd, BasicFileAttributes.class).fileKey(); // of the file the descriptor is open on
        } catch (IOException e) {
            return null; // closed while we looked, or a descriptor stat cannot follow
        }
    }

    private static boolean isNumber(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return false;
            }
        }
        return true;
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
