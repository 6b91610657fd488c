package hotswap;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * A running app's claim on a managed database: a shared lock on {@code .<db name>.hotswap.lock}
 * beside it, held from {@link #take} to {@link #close}. A start removes leftover temp files only
 * when it can hold that lock alone: another running app that manages the same file (two JVMs, one
 * misconfigured, or the next version starting before the last stops) may be using them, as a
 * push's temp file, a pull's snapshot or a replaced database it is keeping.
 *
 * <p>The lock file stays: removing it could let two apps lock two different files of that name.
 * Locks belong to the process, and closing any descriptor of the file drops them all, so the
 * apps of one JVM share one descriptor.
 */
final class DatabaseClaim implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DatabaseClaim.class.getName());
    /** This JVM's claims by database, each with its number of holders. */
    private static final Map<Path, DatabaseClaim> HELD = new HashMap<>();

    private final Path database;
    /** Null where no lock file could be made: nothing is held. */
    private final FileChannel channel;
    private int holders = 1;

    private DatabaseClaim(Path database, FileChannel channel) {
        this.database = database;
        this.channel = channel;
    }

    /** The lock file of {@code database}; not named like a temp file, so no cleanup removes it. */
    static Path lockFileOf(Path database) {
        return database.resolveSibling("." + database.getFileName() + ".hotswap.lock");
    }

    /**
     * Claims {@code database} for this app, first removing leftovers of ours beside it when no
     * other app holds a claim on it.
     */
    static synchronized DatabaseClaim take(Path database) {
        DatabaseClaim mine = HELD.get(database);
        if (mine != null) { // another Hotswap of this JVM manages it and may be using its files
            mine.holders++;
            LOG.warning(() -> "another Hotswap in this JVM also manages " + database + "; its leftover temp files are left to it");
            return mine;
        }
        FileChannel channel;
        try {
            // Not through a link: in a directory others may write, one could lead the create anywhere.
            channel = FileChannel.open(lockFileOf(database), Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
                            LinkOption.NOFOLLOW_LINKS),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (IOException | UnsupportedOperationException e) {
            if (Files.exists(lockFileOf(database), LinkOption.NOFOLLOW_LINKS)) {
                // Another app may hold it (a lock file another user made, a link planted there): its files are not ours to remove.
                LOG.warning(() -> "could not open " + lockFileOf(database) + " (" + e + "); leftover temp files of " + database
                        + " are left alone, since another app may manage it. Remove what is at that name if it is not an app's lock file");
            } else {
                // Where no lock file can be made, no other app can hold one either: leftovers are removed as before there were locks.
                LOG.warning(() -> "could not make " + lockFileOf(database) + " (" + e + "); removing leftovers of " + database
                        + " without knowing whether another app manages it");
                TempFiles.removeOrphans(database);
            }
            return new DatabaseClaim(database, null);
        }
        try {
            try (FileLock alone = channel.tryLock(0, Long.MAX_VALUE, false)) {
                if (alone != null) {
                    TempFiles.removeOrphans(database);
                } else {
                    LOG.warning(() -> "another running app manages " + database + " too: its leftover temp files are left "
                            + "alone, and a push is refused while that app has the database open");
                }
            }
            // Blocks only while another app starting at this moment removes its leftovers.
            channel.lock(0, Long.MAX_VALUE, true);
        } catch (IOException | OverlappingFileLockException e) {
            LOG.warning(() -> "could not lock " + lockFileOf(database) + " (" + e + "); another app starting on " + database
                    + " may take this one's temp files for leftovers");
        }
        DatabaseClaim claim = new DatabaseClaim(database, channel);
        HELD.put(database, claim);
        return claim;
    }

    /** Gives the claim up once every Hotswap of this JVM that took it has. */
    @Override
    public void close() {
        synchronized (DatabaseClaim.class) {
            if (--holders > 0 || channel == null) {
                return;
            }
            HELD.remove(database);
            try {
                channel.close();
            } catch (IOException e) {
                LOG.warning(() -> "closing " + lockFileOf(database) + ": " + e.getMessage());
            }
        }
    }
}
