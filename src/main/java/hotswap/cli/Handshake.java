package hotswap.cli;

import hotswap.wire.Channel;
import hotswap.wire.Failures;
import hotswap.wire.Frames;
import hotswap.wire.Protocol;
import hotswap.wire.ProtocolException;
import java.io.IOException;
import java.util.List;

/**
 * The start of every command's conversation with an app, here or through a transport to a remote
 * relay: hello both ways, the request (one or two messages), and the check of the peer's protocol
 * version. Nothing has changed anywhere when it fails.
 */
final class Handshake {
    private Handshake() {
    }

    /**
     * @param transport the transport to a remote relay, or null for this machine's app
     * @param host      the remote host, for messages; null for this machine's app
     * @return null, or why the peer closed the connection while the request was written: it has
     *         replied (busy, another user) and hung up, and the reply comes next
     */
    static String perform(Frames frames, List<String> first, List<String> second, Transport transport, String host) throws Failure {
        String refused = null;
        try {
            Protocol.sayHello(frames);
            frames.writeStrings(Channel.CONTROL, first);
            if (second != null) {
                frames.writeStrings(Channel.CONTROL, second);
            }
        } catch (IOException e) {
            refused = (transport == null ? "the app" : "the transport") + " closed the connection: " + Failures.describe(e);
        }
        int version;
        try {
            version = Protocol.readHello(frames);
        } catch (ProtocolException e) {
            if (transport != null) {
                transport.kill();
                throw new Failure("what came back from " + host + " is not hotswap's handshake; nothing changed. "
                        + "Something there writes to standard output before hotswap starts (a login script that prints, "
                        + "a message of the day): make the login quiet for commands, as scp and rsync also need");
            }
            throw new Failure("the app answered with something that is not hotswap's handshake (" + e.getMessage()
                    + "); nothing was sent. Point --socket (or HOTSWAP_SOCKET) at your app's socket");
        } catch (IOException e) {
            if (transport != null) {
                throw new Failure("the connection to " + host + " ended before the hotswap there answered; nothing changed. "
                        + transport.endingSentence());
            }
            throw new Failure(refused != null ? refused
                    : "the app closed the connection during the handshake (" + Failures.describe(e) + "); see the app's log");
        }
        if (version != Protocol.VERSION) {
            throw new Failure(transport == null
                    ? "the app's hotswap speaks protocol version " + version + ", this client "
                            + Protocol.VERSION + "; use the same hotswap jar for the command and the app"
                    : "the hotswap on " + host + " speaks protocol version " + version + ", this one "
                            + Protocol.VERSION + "; nothing changed. Install the same hotswap version on both machines");
        }
        return refused;
    }
}
