package hotswap.wire;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The disk space a command may use beside a live database. It leaves a reserve for the app's own
 * writes: a push or a snapshot that filled the disk would make the app's transactions fail while
 * it runs, although the command itself then fails cleanly.
 *
 * <p>Internal to hotswap: the app and the client (a local delta pull's copy, which may share the
 * database's file system) share it; it is not part of the public API.
 */
public final class DiskRoom {
    /** The most a reserve holds back. */
    public static final long MAX_RESERVE = 64L << 20;

    private final FileStore store;
    private final long reserve;

    private DiskRoom(Path dir) throws IOException {
        this.store = Files.getFileStore(dir); // reads the mount table: once a command, not once a chunk
        this.reserve = Math.min(MAX_RESERVE, store.getTotalSpace() / 100);
    }

    /** The room in {@code dir}'s file system; its reserve is 1% of it, at most {@link #MAX_RESERVE}. */
    public static DiskRoom of(Path dir) throws IOException {
        return new DiskRoom(dir);
    }

    /** Bytes a command may still write, the reserve left alone; negative when short. */
    public long spare() throws IOException {
        return store.getUsableSpace() - reserve;
    }

    /** Says how much is free, and how much of it stays for the app's own writes. */
    public String describe() throws IOException {
        return store.getUsableSpace() + " bytes are free, of which " + reserve + " stay for the app's own writes";
    }
}
