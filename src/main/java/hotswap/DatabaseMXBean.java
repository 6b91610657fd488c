package hotswap;

/**
 * One managed database's figures in JMX, registered by {@link Hotswap#start()} as
 * {@code hotswap:type=Database,name=NAME,socket=SOCKET} (see {@link ServerMXBean} for the names).
 * Each read is fresh: sizes from a stat, SQLite's figures from PRAGMAs, no scan. Counts and
 * last-ofs cover the time since the app started; a time of 0 means never.
 */
public interface DatabaseMXBean {
    /** The database's name. */
    String getName();

    /** Its real path. */
    String getPath();

    /** The file's size in bytes; 0 when it does not exist. */
    long getSizeBytes();

    /** SQLite's page size; 0 when it cannot be read. */
    int getPageSize();

    /** SQLite's page count, the WAL's pages included; 0 when it cannot be read. */
    long getPageCount();

    /** SQLite's journal mode ({@code wal}, {@code delete}, ...); empty when it cannot be read. */
    String getJournalMode();

    /** The {@code -wal} file's size in bytes; 0 when there is none. */
    long getWalSizeBytes();

    /** Swaps since the app started. */
    long getSwapCount();

    /** When the last swap ended, in epoch milliseconds; 0 when none. */
    long getLastSwapEpochMillis();

    /** The size of the database the last swap put in place; 0 when none. */
    long getLastSwapBytes();

    /** How long the last swap held requests, in milliseconds; 0 when none. */
    double getLastSwapPauseMillis();

    /** Where the last swap's database came from: {@code file}, {@code stdin} or {@code remote}; empty when none. */
    String getLastSwapSource();

    /** Pulls since the app started. */
    long getPullCount();

    /** When the last pull ended, in epoch milliseconds; 0 when none. */
    long getLastPullEpochMillis();

    /** The size of the last pull's snapshot; 0 when none. */
    long getLastPullBytes();

    /** How long the last pull took, in milliseconds; 0 when none. */
    long getLastPullDurationMillis();
}
