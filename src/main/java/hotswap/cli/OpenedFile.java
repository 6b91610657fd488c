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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A file opened read-only without following a symbolic link at the end of its path, together with
 * the attributes of the file the descriptor holds, not of whatever the path names a moment later.
 *
 * <p>The JDK has no fstat for a FileChannel. On Linux {@code /proc/self/fd/N} stands for the
 * descriptor itself: stat and chmod on it reach the opened inode whatever has happened to the path.
 * The descriptor an open adds is found by listing that directory before and after the open (the
 * listing's own descriptor stays open across the open, so the new one cannot reuse its number);
 * other threads may open files meanwhile, so of the new descriptors exactly one must be the file
 * the caller expects. Where that cannot be shown, nothing is opened.
 */
final class OpenedFile implements AutoCloseable {
    private static final Path DESCRIPTORS = Path.of("/proc/self/fd");
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
            FileChannel channel;
            Set<String> added;
            try (DirectoryStream<Path> before = Files.newDirectoryStream(DESCRIPTORS)) {
                Set<String> old = names(before);
                channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
                try (DirectoryStream<Path> after = Files.newDirectoryStream(DESCRIPTORS)) {
                    added = names(after);
                }
                added.removeAll(old);
            }
            OpenedFile opened = identify(channel, added, id);
            if (opened == null) {
                channel.close();
            }
            return opened;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | SecurityException e) {
            return null; // not opened, or not provable here: the caller does without the file
        }
    }

    private static OpenedFile identify(FileChannel channel, Set<String> added, String id) {
        List<OpenedFile> matching = new ArrayList<>();
        for (String fd : added) {
            Path descriptor = DESCRIPTORS.resolve(fd);
            try {
                Map<String, Object> attributes = Files.readAttributes(descriptor, "unix:dev,ino,uid,mode");
                if (id.equals(attributes.get("dev") + ":" + attributes.get("ino"))) {
                    matching.add(new OpenedFile(channel, descriptor, attributes));
                }
            } catch (IOException e) {
                // Closed meanwhile by another thread: not ours.
            }
        }
        return matching.size() == 1 ? matching.get(0) : null;
    }

    private static Set<String> names(DirectoryStream<Path> dir) {
        Set<String> names = new HashSet<>();
        dir.forEach(p -> names.add(p.getFileName().toString()));
        return names;
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
