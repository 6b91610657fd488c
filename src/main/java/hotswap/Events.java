package hotswap;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * hotswap's JDK Flight Recorder events. None is on the request path, and each is built only when
 * a recording has it enabled ({@link Event#shouldCommit()}): with no recording they cost nothing.
 */
final class Events {
    private Events() {
    }

    /** The pause of one swap, as requests saw it: from the gate closing to its opening. */
    @Name("hotswap.Swap")
    @Label("Database Swap")
    @Category("hotswap")
    @Description("Requests held at the gate while a managed database was replaced; the duration is the pause they saw")
    @StackTrace(false)
    static final class SwapEvent extends Event {
        @Label("Database")
        String database;

        @Label("Path")
        String path;

        @Label("Size")
        @DataAmount
        long bytes;

        @Label("Source")
        @Description("file, stdin or remote")
        String source;

        @Label("Requests Waited")
        int waited;
    }

    /** One push, from the first byte received to the client's answer, swap included. */
    @Name("hotswap.Push")
    @Label("Database Push")
    @Category("hotswap")
    @Description("A new database received, checked and swapped in")
    @StackTrace(false)
    static final class PushEvent extends Event {
        @Label("Database")
        String database;

        @Label("Path")
        String path;

        @Label("Size")
        @DataAmount
        long bytes;

        @Label("Source")
        @Description("file, stdin or remote")
        String source;

        @Label("Pause")
        @Description("How long requests were held, in milliseconds")
        double pauseMillis;
    }

    /** One pull, from the snapshot's start to its handover. */
    @Name("hotswap.Pull")
    @Label("Database Pull")
    @Category("hotswap")
    @Description("A consistent snapshot of a managed database taken and handed to the client")
    @StackTrace(false)
    static final class PullEvent extends Event {
        @Label("Database")
        String database;

        @Label("Path")
        String path;

        @Label("Size")
        @DataAmount
        long bytes;

        @Label("Handover")
        @Description("How the client took it: linked, copied, streamed or delta")
        String handover;
    }
}
