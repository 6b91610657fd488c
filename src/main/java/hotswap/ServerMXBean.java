package hotswap;

/**
 * The hotswap server's figures in JMX, registered by {@link Hotswap#start()} as
 * {@code hotswap:type=Server,socket=SOCKET}, with one {@link DatabaseMXBean} per managed database
 * as {@code hotswap:type=Database,name=NAME,socket=SOCKET}, and unregistered by
 * {@link Hotswap#close()}. SOCKET, the control socket's absolute path, tells apart two Hotswaps in
 * one JVM; where two managed databases share a name, theirs also carry {@code path=PATH}. A value
 * with a character an ObjectName does not take bare is quoted ({@code ObjectName.quote}).
 * {@link Hotswap.Builder#jmx(boolean)} turns the beans off.
 */
public interface ServerMXBean {
    /** hotswap's release. */
    String getVersion();

    /** When the server started, in epoch milliseconds. */
    long getStartEpochMillis();

    /** How long it has run, in milliseconds. */
    long getUptimeMillis();

    /** The control socket's absolute path. */
    String getSocket();

    /** Control sessions running now. */
    int getSessionsInUse();

    /** The most that may run at once. */
    int getMaxSessions();

    /** Requests inside the gate now (one gate serves every database). */
    int getRequestsInFlight();

    /** Requests waiting at the gate for a swap to end. */
    int getRequestsWaiting();
}
