/*
 * DynamoDB Local, listening on one address only (127.0.0.1 unless -Ddynamodb.local.host says otherwise).
 *
 * Why: DynamoDB Local has no bind-address option (`-help` lists -port, -inMemory, -dbPath, -sharedDb, -cors,
 * -delayTransientStatuses, -disableTelemetry, -optimizeDbBeforeStartup, -version) and its Jetty server is built
 * with `new Server(port)`, which listens on every interface, without authentication. local/dynamodb.ts compiles
 * this class once (javac, cached) and runs it instead of the jar's own main class, with the jar's arguments.
 *
 * Invariants:
 * - the server is the jar's own (ServerRunner.createServerFromCommandLineArgs, same options, same handlers); the
 *   only change is the host of its connectors, set before start(), so it never listens anywhere else
 * - it refuses to start (exit code 2) when the server has no network connector to restrict, so a future
 *   DynamoDB Local that builds its server differently fails loudly instead of listening on every interface
 * - no telemetry: the jar's main class configures it, this one does not (and -disableTelemetry is passed too)
 */
import java.lang.reflect.Field;
import org.eclipse.jetty.server.AbstractNetworkConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class DynamoDBLocalLoopback {
  private DynamoDBLocalLoopback() {}

  public static void main(String[] args) throws Exception {
    String host = System.getProperty("dynamodb.local.host", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    Connector[] connectors = server.getConnectors();
    boolean restricted = connectors.length > 0;
    for (Connector connector : connectors) {
      if (connector instanceof AbstractNetworkConnector network) network.setHost(host);
      else restricted = false;
    }
    if (!restricted) {
      System.err.println("DynamoDBLocalLoopback: the server's connectors cannot be bound to " + host + "; not starting");
      System.exit(2);
    }
    proxy.start();
    System.out.println("DynamoDBLocalLoopback: listening on " + host);
  }
}
