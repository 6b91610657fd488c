package hotswap.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A file opened read-only without following a symbolic link at the end of its path, together with
 * the attributes of the file the descriptor holds, not of whatever the path names a moment later.
 *
 * <p>The JDK has no fstat for a FileChannel. On Linux {@code /proc/self/fd/N} stands for the
 * descriptor itself: stat and chmod on it reach the opened inode whatever has happened to the path.
 * The channel's own N is found by its offset: the channel is moved to a random mark, and exactly
 * one descriptor of this process must show that offset in {@code /proc/self/fdinfo/N}. (Listing the
 * descriptors before and after the open is not enough: another thread may close one meanwhile,
 * and the open then reuses its number.) Where that cannot be shown, nothing is opened.
 */
final class OpenedFile implements AutoCloseable {
    private static final Path DESCRIPTORS = Path.of("/proc/self/fd");
    private static final Path OFFSETS = Path.of("/proc/self/fdinfo");
    private static final int TYPE_MASK = 0170000;
    private static final int REGULAR_FILE = 0100000;

    private final FileChannel channel;
    private final Path descriptor;
    private final Map<String, Object> attributes;

    private OpenedFile(FileChannel channel, Path descriptor, Map<String, Object> attributes) {
        this.channel = channel;
        this.descriptor = descriptor;
        this.attributes = attributes;
    }

    /**
     * Opens {@code path} to read, not following a symbolic link at its end, if what opens is the
     * file with {@link hotswap.wire.FileIds id} {@code id}; null otherwise, or when that cannot be
     * shown.
     */
    static OpenedFile open(Path path, String id) {
        try {
            // Opening a FIFO blocks, opening a device may act on it: only what looks like a regular file is opened.
            if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                return null;
            }
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
            OpenedFile opened = null;
            try {
                opened = identify(channel, id);
            } finally {
                if (opened == null) {
                    channel.close();
                }
            }
            return opened;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | SecurityException e) {
            return null; // not opened, or not provable here: the caller does without the file
        }
    }

    /** The channel with its descriptor's attributes, if that descriptor is on the file with {@code id}; else null. */
    private static OpenedFile identify(FileChannel channel, String id) throws IOException {
        Path descriptor = descriptorOf(channel);
        if (descriptor == null) {
            return null;
        }
        Map<String, Object> attributes = Files.readAttributes(descriptor, "unix:dev,ino,uid,mode");
        return id.equals(attributes.get("dev") + ":" + attributes.get("ino")) ? new OpenedFile(channel, descriptor, attributes) : null;
    }

    /** {@code /proc/self/fd/N} for the channel's own descriptor, found by its offset; null where that cannot be shown. */
    private static Path descriptorOf(FileChannel channel) throws IOException {
        long was = channel.position();
        long mark = ThreadLocalRandom.current().nextLong(1, 1L << 40);
        channel.position(mark);
        List<Path> marked = new ArrayList<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(DESCRIPTORS)) {
            for (Path fd : fds) {
                if (offsetOf(fd.getFileName().toString()) == mark) {
                    marked.add(fd);
                }
            }
        } finally {
            channel.position(was);
        }
        return marked.size() == 1 ? marked.get(0) : null;
    }

    /**
     * Sets the permission bits of the file {@code channel} has open, through its descriptor: not of
     * whatever its path names by now (another user who may write its directory can put a symbolic
     * link to any file there).
     */
    static void setPermissions(FileChannel channel, Set<PosixFilePermission> mode) throws IOException {
        Path descriptor;
        try {
            descriptor = descriptorOf(channel);
        } catch (UnsupportedOperationException | IllegalArgumentException | SecurityException e) {
            descriptor = null;
        }
        if (descriptor == null) {
            throw new IOException("cannot find its open descriptor in " + DESCRIPTORS + " to set its mode");
        }
        Files.setPosixFilePermissions(descriptor, mode);
    }

    /** The file offset of this process's descriptor {@code fd}; -1 where it cannot be read (closed meanwhile). */
    private static long offsetOf(String fd) {
        try {
            for (String line : Files.readAllLines(OFFSETS.resolve(fd))) {
                if (line.startsWith("pos:")) {
                    return Long.parseLong(line.substring("pos:".length()).trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            // Closed meanwhile, or not telling: not the one.
        }
        return -1;
    }

    FileChannel channel() {
        return channel;
    }

    boolean isRegularFile() {
        return ((Integer) attributes.get("mode") & TYPE_MASK) == REGULAR_FILE;
    }

    int ownerUid() {
        return (Integer) attributes.get("uid");
    }

    /** The size the descriptor reports now (the file may have changed since it was opened). */
    long size() throws IOException {
        return channel.size();
    }

    /** Sets the opened file's permission bits, through the descriptor: no path is followed again. */
    void setPermissions(Set<PosixFilePermission> mode) throws IOException {
        Files.setPosixFilePermissions(descriptor, mode);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Opened to read: nothing is lost.
        }
    }
}
