package hotswap.cli;

import hotswap.wire.CopyRequest;
import hotswap.wire.Failures;
import hotswap.wire.OpenHandles;
import hotswap.wire.OwnUser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;

/**
 * The local paths of a {@code cp} as the kernel resolves them: relative to the client's directory,
 * through symbolic links (real paths), never by textual normalization, which takes
 * {@code db/link/../x} for {@code db/x} whatever {@code db/link} points at. The app compares these
 * with its managed databases.
 */
final class LocalPaths {
    private LocalPaths() {
    }

    /**
     * {@code arg} when it may name one of the app's databases: a word without {@code /} (see
     * {@link CopyRequest#isName}) with nothing at its path. A path that exists wins over a name.
     * Only the app knows its names; null otherwise.
     */
    static String name(Path cwd, String arg) {
        if (!CopyRequest.isName(arg)) {
            return null;
        }
        try {
            return Files.exists(cwd.resolve(arg), LinkOption.NOFOLLOW_LINKS) ? null : arg;
        } catch (InvalidPathException e) {
            return null;
        }
    }

    /**
     * The real path of a source argument, or {@code -}. The source must be a regular file: the
     * client sends its size and that many bytes, which a pipe or a device does not have.
     */
    static String source(Path cwd, String arg) throws Failure {
        if (arg.equals(CopyRequest.STDIO)) {
            return arg;
        }
        Path given = resolve(cwd, arg);
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(given, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new Failure("cannot read " + arg + ": no such file; nothing changed. Check the path (it is relative to this "
                    + "directory, " + cwd + ")");
        } catch (IOException e) { // a directory on the way this user may not search is no typo
            throw new Failure("cannot read " + arg + ": " + Failures.describe(e) + "; nothing changed");
        }
        if (attributes.isDirectory()) {
            throw new Failure(arg + " is a directory; nothing changed. cp copies one database file: name the file in it");
        }
        if (!attributes.isRegularFile()) {
            throw new Failure("cannot read " + arg + ": not a regular file (a pipe or a device); nothing changed. "
                    + "To push from a pipe, use -: hotswap cp - DST < " + arg);
        }
        return realPath(given).toString();
    }

    /**
     * The real path of a destination argument, or {@code -}: for a file that does not exist yet, the
     * real path of its directory plus its name; for a directory, the source's name in it.
     */
    static String destination(Path cwd, String arg, String source) throws Failure {
        if (arg.equals(CopyRequest.STDIO)) {
            return arg;
        }
        Path given = resolve(cwd, arg);
        refuseLinksOfOthers(given.toAbsolutePath(), arg, 0);
        if (Files.isDirectory(given)) {
            if (source.equals(CopyRequest.STDIO)) {
                return realPath(given).toString();
            }
            Path inDir = given.resolve(Path.of(source).getFileName());
            if (Files.isDirectory(inDir)) {
                throw new Failure(inDir + " is a directory, and a pull into " + arg + " would replace it with the database; "
                        + "nothing changed. Name the file to pull to");
            }
            return destination(cwd, inDir.toString(), source); // what is there by that name is checked as if named outright
        }
        if (arg.endsWith("/")) { // Path drops the slash, which meant a directory: never make or replace a file there
            throw new Failure(arg + " is not a directory" + (Files.exists(given, LinkOption.NOFOLLOW_LINKS) ? "" : " (there is none)")
                    + "; nothing changed. Create it first (mkdir -p " + arg + "), or name a file without the trailing /");
        }
        if (Files.exists(given)) {
            if (!Files.isRegularFile(given)) {
                // A copy lands by rename: a FIFO, a device or a socket there would be replaced by a file.
                throw new Failure(arg + " is not a regular file (a pipe, a device or a socket), and a copy, which lands by "
                        + "rename, would replace it with one; nothing changed. To pull into it, use -: hotswap cp SRC - > " + arg);
            }
            return realPath(given).toString();
        }
        Path dir = given.getParent(); // not null: only / has none, and it is a directory
        BasicFileAttributes inDir;
        try {
            inDir = Files.readAttributes(dir, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new Failure("cannot write " + given + ": directory " + dir + " does not exist; nothing changed. "
                    + "Create it first (mkdir -p " + dir + "), or name another path");
        } catch (IOException e) { // one this user may not search exists all the same: creating it is no cure
            throw new Failure("cannot write " + given + ": " + Failures.describe(e) + "; nothing changed");
        }
        if (!inDir.isDirectory()) {
            throw new Failure("cannot write " + given + ": " + dir + " is not a directory; nothing changed. Pull to a path "
                    + "in a directory");
        }
        return realPath(dir).resolve(given.getFileName()).toString();
    }

    /**
     * Refuses a destination reached through a symbolic link that another user put in a sticky
     * directory others may write (/tmp), unless that user owns the directory: the rule by which the
     * kernel (fs.protected_symlinks) refuses to follow such a link. The destination is resolved by
     * reading links, not by opening through them, so the kernel's rule would not apply, and the
     * pulled file would be renamed over whatever file the other user pointed the link at.
     */
    private static void refuseLinksOfOthers(Path path, String arg, int depth) throws Failure {
        if (depth > 40) {
            throw new Failure("cannot resolve " + arg + ": too many levels of symbolic links; nothing changed");
        }
        Path at = path.getRoot();
        for (Path name : path) {
            String part = name.toString();
            if (part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                at = at.getParent() == null ? at : at.getParent(); // at has no links: its parent is the kernel's
                continue;
            }
            Path next = at.resolve(name);
            if (!Files.isSymbolicLink(next)) {
                at = next;
                continue;
            }
            try {
                int linkOwner = (Integer) Files.getAttribute(next, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                Map<String, Object> dir = Files.readAttributes(at, "unix:uid,mode");
                int mode = (Integer) dir.get("mode");
                boolean stickyAndWorldWritable = (mode & 01002) == 01002;
                if (stickyAndWorldWritable && linkOwner != OwnUser.uid() && linkOwner != (Integer) dir.get("uid")) {
                    throw new Failure(next + " is a symbolic link of another user (uid " + linkOwner + ") in " + at
                            + ", a directory others may write, and it leads " + arg + " elsewhere; nothing changed. "
                            + "The kernel refuses to follow such links (fs.protected_symlinks): copy to a name of yours");
                }
                refuseLinksOfOthers(at.resolve(Files.readSymbolicLink(next)), arg, depth + 1);
                at = next.toRealPath();
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                return; // a dangling link or an unreadable one: what follows handles it as the kernel would
            }
        }
    }

    /**
     * Refuses to push a source whose transactions are not all in the file itself: committed ones
     * still in its {@code -wal}, or a {@code -journal} that a writer in a transaction (or one that
     * crashed in it) left. The push sends the file alone, so they would be lost. A source another
     * process has open for writing is refused too: SQLite names the journals after the name that
     * process opened, which need not be this one (a hard link, as {@code cp -al} leaves, of a live
     * database), and the bytes may change while they are sent.
     *
     * @param arg the source as the user typed it, for the message
     * @param source its real path, as {@link #source} made it; SQLite names the journal after the
     *               real path, older versions after the path they were given
     */
    static void refuseUnfinishedTransactions(Path cwd, String arg, String source) throws Failure {
        if (source.equals(CopyRequest.STDIO)) {
            return;
        }
        Path given = cwd.resolve(arg);
        if (nonEmpty(Path.of(source + "-wal")) || nonEmpty(Path.of(given + "-wal"))) {
            throw new Failure(arg + "-wal holds committed transactions that are not in " + arg + " yet, and a push "
                    + "sends " + arg + " alone; nothing was sent and nothing changed. Checkpoint them into " + arg
                    + " first: sqlite3 " + arg + " 'PRAGMA wal_checkpoint(TRUNCATE)'");
        }
        if (nonEmpty(Path.of(source + "-journal")) || nonEmpty(Path.of(given + "-journal"))) {
            throw new Failure(arg + "-journal is not empty: a writer has " + arg + " open in a transaction, or "
                    + "crashed in one; nothing was sent and nothing changed. Close the writer (opening " + arg
                    + " once with sqlite3 rolls back a crashed one) and push again");
        }
        refuseWriters(arg, Path.of(source));
    }

    /**
     * Refuses to push from a standard input that is a file with no name left (removed once the shell
     * had opened it, as a script's temp link is): nothing can be looked up beside it, but another
     * process writing it, a live database by another name, still shows by its descriptor.
     */
    static void refuseNamelessStdinBeingWritten() throws Failure {
        Path stdin = Path.of("/proc/self/fd/0");
        if (Files.isRegularFile(stdin)) { // not a pipe, a terminal, nor another system than Linux
            refuseWriters("standard input (a file removed since it was opened)", stdin);
        }
    }

    private static void refuseWriters(String shown, Path file) throws Failure {
        List<String> writers;
        try {
            writers = OpenHandles.otherProcessesWriting(file);
        } catch (IOException e) {
            return; // gone: the push's own read says so
        }
        if (!writers.isEmpty()) {
            throw new Failure(shown + " is open for writing in another process (" + String.join(", ", writers) + "): it may be "
                    + "a live database, whose newest transactions are in a -wal named after the name that process opened, "
                    + "and its bytes may change while they are sent; nothing was sent and nothing changed. Pull a copy "
                    + "from the app that serves it (hotswap cp), or stop that process, then push the file");
        }
    }

    /**
     * What a pull checks of its destination once the app has said the copy is a pull, before any
     * byte lands: no journal files beside it, and that it may be written.
     */
    static void refuseToReplace(String destination) throws Failure {
        refuseJournalsBeside(destination);
        refuseReadOnly(destination);
    }

    /**
     * Refuses a pull destination that has a {@code -wal}, {@code -shm} or {@code -journal} beside
     * it: a database there is open (another app's) or was not closed cleanly, and SQLite would read
     * the pulled file with that journal, replaying another database's pages over the snapshot.
     */
    private static void refuseJournalsBeside(String destination) throws Failure {
        if (destination.equals(CopyRequest.STDIO)) {
            return;
        }
        for (String suffix : List.of("-wal", "-journal", "-shm")) {
            Path sidecar = Path.of(destination + suffix);
            if (suffix.equals("-shm") ? Files.exists(sidecar, LinkOption.NOFOLLOW_LINKS) : nonEmpty(sidecar)) {
                throw new Failure(sidecar + " is beside " + destination + ": a database there is open, or was not closed "
                        + "cleanly, and SQLite would read the pulled file with it; nothing changed. Pull to another name, "
                        + "or push into the app that serves " + destination + " (if none does, open it once with sqlite3, "
                        + "which cleans up after a crash, then pull over it)");
            }
        }
    }

    /** Whether {@code mode} lets this user write {@code file}: root may write any file, its owner by the owner's bit. */
    private static boolean modeLetsThisUserWrite(Path file, int mode) {
        if ((mode & 0222) == 0) {
            return false;
        }
        try {
            long me = OwnUser.uid();
            return me == 0 || ((mode & 0200) != 0 && me == ((Number) Files.getAttribute(file, "unix:uid")).longValue());
        } catch (IOException | RuntimeException e) {
            return false; // not known: the checks by mode below still apply
        }
    }

    /**
     * Refuses a pull over a file that no one may write ({@code chmod a-w}, the usual way to protect
     * a backup) or that this user may not: cp and sqlite3's .backup refuse to write into it, and a
     * pull, which lands by rename, would otherwise replace it all the same. Checked once the app has
     * said the copy is a pull: a push replaces a read-only live database as any other.
     */
    private static void refuseReadOnly(String destination) throws Failure {
        if (destination.equals(CopyRequest.STDIO)) {
            return;
        }
        Path file = Path.of(destination);
        int mode;
        try {
            mode = (Integer) Files.getAttribute(file, "unix:mode");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return; // nothing there yet
        }
        if (!Files.isWritable(file) && modeLetsThisUserWrite(file, mode)) {
            // Then neither the mode nor the owner is the cause, and no chmod helps: the mount is (a backup disk
            // mounted ro, a read-only bind mount), or the file is immutable.
            throw new Failure("cannot pull to " + destination + ": its file system is mounted read-only, or the file is immutable "
                    + "(chattr +i), since its mode lets this user write it; nothing changed. Pull to a file system you can write, "
                    + "or remount it read-write");
        }
        String shown = String.format("%04o", mode & 07777);
        if ((mode & 0222) == 0) {
            throw new Failure(destination + " is read-only (mode " + shown + "), and a pull would "
                    + "replace it; nothing changed. To replace it, make it writable first (chmod u+w " + destination
                    + "), or pull to another name");
        }
        if (!Files.isWritable(file)) {
            // Writable to someone, not to this user: a chmod is its owner's to make, and fails for anyone else.
            String owner;
            try {
                owner = Files.getOwner(file).getName();
            } catch (IOException | RuntimeException e) {
                owner = "another user";
            }
            throw new Failure(destination + " is not writable to this user (owner " + owner + ", mode " + shown
                    + "), and a pull would replace it; nothing changed. Pull to another name, or have " + owner
                    + " let you write it (or remove it) first");
        }
    }

    /**
     * Refuses a pull to standard output that is the very file it reads, or one of its journal files
     * ({@code hotswap cp DB - > DB}, a slip of the keyboard): the pull would write into a database
     * the app has open, and with {@code >} the shell has already emptied it, which the operator must
     * hear at once, not after requests begin to fail.
     *
     * @param source the real path of the source
     */
    static void refuseStdoutIntoSource(String source) throws Failure {
        Path stdout = Path.of("/proc/self/fd/1");
        for (String suffix : List.of("", "-wal", "-journal", "-shm")) {
            Path file = Path.of(source + suffix);
            try {
                if (!Files.isSameFile(stdout, file)) {
                    continue;
                }
            } catch (IOException | RuntimeException e) {
                continue; // none there, or not Linux
            }
            // Opened to append (>>), the file was not emptied: the advice for > would have an intact database replaced.
            throw new Failure("standard output is " + file + (suffix.isEmpty() ? " itself, the database this pull reads"
                    : ", a file SQLite keeps beside " + source + ", the database this pull reads") + "; nothing was written to it"
                    + (stdoutAppends() ? ", and with >> the shell left it as it was. "
                    : ". A redirection with > empties the file before hotswap starts: if it belongs to the app's live database, "
                    + "check the app's data now (hotswap status shows its size), and push a backup if it was lost. ")
                    + "Redirect the pull to another file");
        }
    }

    /** Whether standard output was opened to append ({@code >>}), by the flags Linux's /proc shows for descriptor 1. */
    private static boolean stdoutAppends() {
        int flags = OpenHandles.flagsOf(Path.of("/proc/self/fd/1"));
        return flags >= 0 && (flags & 02000) != 0; // O_APPEND; not known (not Linux): say what a > would have done
    }

    /** The real path of the regular file standard input was redirected from ({@code < file}); null for anything else. */
    static String stdinFile() {
        try {
            Path file = Path.of("/proc/self/fd/0").toRealPath();
            return Files.isRegularFile(file) ? file.toString() : null;
        } catch (IOException | RuntimeException e) {
            return null; // a pipe, a terminal, or not Linux
        }
    }

    /**
     * Whether this process started with its standard input closed ({@code <&-}): the JVM then opens
     * its module image on descriptor 0, the lowest free one, and reading "standard input" reads it.
     */
    static boolean stdinWasClosed() {
        try {
            return Files.isSameFile(Path.of("/proc/self/fd/0"), Path.of(System.getProperty("java.home"), "lib", "modules"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether this process's standard input is a terminal, by what Linux's /proc says descriptor 0 is. */
    static boolean stdinIsTerminal() {
        return isTerminal(0); // not Linux: then the push waits for what is typed, as cat would
    }

    /** Whether this process's standard output is a terminal, by what Linux's /proc says descriptor 1 is. */
    static boolean stdoutIsTerminal() {
        return isTerminal(1);
    }

    private static boolean isTerminal(int fd) {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static boolean nonEmpty(Path file) {
        try {
            return Files.size(file) > 0;
        } catch (IOException e) {
            return false; // none there
        }
    }

    private static Path resolve(Path cwd, String arg) throws Failure {
        try {
            return cwd.resolve(arg);
        } catch (InvalidPathException e) {
            throw new Failure("cannot use the path " + arg.replace("\0", "\\0") + ": " + e.getReason() + "; nothing changed");
        }
    }

    private static Path realPath(Path path) throws Failure {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            throw new Failure("cannot resolve " + path + ": " + Failures.describe(e) + "; nothing changed");
        }
    }
}
