package hotswap.wire;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Finds open file descriptors on a file, from {@code /proc} (Linux). A SQLite connection the app
 * opened outside hotswap's DataSource and listeners shows up here, and so does another process with
 * the database open (a sqlite3 shell): either keeps using the old file after a swap, while opening
 * its {@code -wal}, {@code -shm} and {@code -journal} by name, which are then the new file's
 * (sqlite.org/howtocorrupt.html §2.5). The client looks too, before it renames a pulled file over
 * one that another process has open.
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class OpenHandles {
    private static final Path PROC = Path.of("/proc");
    private static final Path FD_DIR = PROC.resolve("self/fd");

    private OpenHandles() {
    }

    /** Whether this platform lets us count open handles. */
    private static boolean supported() {
        return Files.isDirectory(FD_DIR);
    }

    /** The identity of {@code file}'s inode (device and inode number), or null where there is none. */
    public static Object inodeOf(Path file) throws IOException {
        return Files.readAttributes(file, BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    /** A deadline for a look that may take as long as it takes. */
    public static final long NO_DEADLINE = Long.MAX_VALUE;

    /** The look ran past its deadline: whether another process has the file open is not known. */
    public static final class OutOfTime extends Exception {
        OutOfTime(int looked) {
            super("looked at " + looked + " processes");
        }
    }

    /**
     * The other processes we may look at that have the inode {@code inode} open, each as
     * {@code pid N NAME}; empty where it cannot be told. Processes of other users are hidden from a
     * non-root app. The look gives up at {@code deadlineNanos} (nanoTime, or {@link #NO_DEADLINE}):
     * it stats every descriptor of every process it may see, which on a busy host (an app run as
     * root) takes longer than a swap may keep requests waiting.
     */
    public static List<String> otherProcessesHolding(Object inode, long deadlineNanos) throws OutOfTime {
        return otherProcessesHolding(inode, fd -> true, deadlineNanos);
    }

    /**
     * The other processes that have {@code file} open for writing. One that only reads it loses
     * nothing when its name is replaced: it goes on reading the file it opened, whole. A link is
     * followed: {@code /proc/self/fd/0} stands for the file standard input is open on, even one
     * removed since.
     *
     * @throws IOException where {@code file} cannot be looked at (it does not exist)
     */
    public static List<String> otherProcessesWriting(Path file) throws IOException {
        try {
            return otherProcessesHolding(Files.readAttributes(file, BasicFileAttributes.class).fileKey(), OpenHandles::openForWriting,
                    NO_DEADLINE);
        } catch (OutOfTime e) {
            throw new AssertionError(e); // no deadline
        }
    }

    /**
     * Whether the descriptor {@code fd} (/proc/PID/fd/N) may write, by its flags; where they cannot
     * be read, it may. A reader (a backup tool, an upload of the last pull) loses nothing when the
     * name is replaced: it goes on reading the file it opened, whole.
     */
    private static boolean openForWriting(Path fd) {
        int flags = flagsOf(fd);
        return flags < 0 || (flags & 03) != 0; // O_ACCMODE: O_WRONLY or O_RDWR
    }

    /**
     * The open flags of the descriptor {@code fd} (/proc/PID/fd/N), as /proc/PID/fdinfo/N gives
     * them (O_ACCMODE, O_APPEND, ...); -1 where they cannot be read (not Linux, or gone).
     */
    public static int flagsOf(Path fd) {
        try {
            for (String line : Files.readAllLines(fd.getParent().resolveSibling("fdinfo").resolve(fd.getFileName()))) {
                if (line.startsWith("flags:")) {
                    return Integer.parseInt(line.substring("flags:".length()).trim(), 8);
                }
            }
        } catch (IOException | RuntimeException e) {
            // below
        }
        return -1;
    }

    private static List<String> otherProcessesHolding(Object inode, Predicate<Path> fdFilter, long deadlineNanos) throws OutOfTime {
        List<String> holders = new ArrayList<>();
        if (!supported() || inode == null) {
            return holders;
        }
        String self = selfInProc();
        int looked = 0;
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(PROC, p -> isNumber(p.getFileName().toString()))) {
            for (Path process : processes) {
                String pid = process.getFileName().toString();
                if (!pid.equals(self) && descriptorsOn(process.resolve("fd"), inode, fdFilter, deadlineNanos) > 0) {
                    holders.add("pid " + pid + " " + commandName(process));
                }
                looked++;
                if (passed(deadlineNanos)) {
                    throw new OutOfTime(looked);
                }
            }
        } catch (IOException e) {
            // No /proc to look at: nothing to tell.
        }
        return holders;
    }

    /**
     * This process's name in {@code /proc}: its pid as that /proc's PID namespace numbers it, which is
     * not the JVM's own pid where /proc was mounted for another namespace ({@code unshare -pf}
     * without {@code --mount-proc}, some sandboxes).
     */
    private static String selfInProc() {
        try {
            return Files.readSymbolicLink(PROC.resolve("self")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return Long.toString(ProcessHandle.current().pid());
        }
    }

    private static String commandName(Path process) {
        try {
            // Any process may name itself anything: no control characters reach the client's terminal.
            return Printable.of(Files.readString(process.resolve("comm")).strip());
        } catch (IOException e) {
            return "(gone)";
        }
    }

    private static boolean passed(long deadlineNanos) {
        return deadlineNanos != NO_DEADLINE && System.nanoTime() - deadlineNanos > 0;
    }

    /** As many as it finds by {@code deadlineNanos}; the caller tells that it stopped early. */
    private static int descriptorsOn(Path fdDir, Object inode, Predicate<Path> fdFilter, long deadlineNanos) {
        int open = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(fdDir)) {
            for (Path fd : fds) {
                if (inode.equals(fileKey(fd)) && fdFilter.test(fd)) {
                    open++;
                }
                if (passed(deadlineNanos)) {
                    break;
                }
            }
        } catch (IOException e) {
            // Gone, or another user's: not ours to look at.
        }
        return open;
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

    /**
     * Descriptors of this process open on {@code file}'s inode, under whatever name they were
     * opened; 0 where {@link #supported()} is false or the file does not exist.
     */
    public static int count(Path file) {
        try {
            Object inode = inodeOf(file);
            return supported() && inode != null ? descriptorsOn(FD_DIR, inode, fd -> true, NO_DEADLINE) : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
