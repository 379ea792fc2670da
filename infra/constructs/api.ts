import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import {
  HttpApi,
  type HttpMethod,
  HttpNoneAuthorizer,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { routeScopes } from '../../functions/core/access.ts';

export interface ApiRoute {
  method: HttpMethod;
  path: string;
  fn: IFunction;
}

/**
 * The HTTP API (API Gateway v2, Lambda proxy payload 2.0). Every route takes its access rule from
 * functions/core/access.ts: the JWT authorizer with the route's scopes, or none for the public
 * routes. The local runtime serves and enforces the same routes, read from the synthesized template.
 */
export class OrderApi extends Construct {
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props: { routes: ApiRoute[]; authorizer: IHttpRouteAuthorizer }) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new HttpApi(this, 'HttpApi', {
      description: 'Sales orders: checkout, status, catalog, carrier webhook',
      createDefaultStage: false,
    });
    this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 100, burstLimit: 200 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
    });
    for (const route of props.routes) {
      const integrationId = `${route.method}${route.path}`.replace(/[^A-Za-z0-9]/g, '');
      const scopes = routeScopes(`${route.method} ${route.path}`);
      this.api.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: new HttpLambdaIntegration(integrationId, route.fn),
        ...(scopes === 'public'
          ? { authorizer: new HttpNoneAuthorizer() }
          : { authorizer: props.authorizer, authorizationScopes: scopes }),
      });
    }
    new CfnOutput(scope, 'ApiUrl', { value: this.api.apiEndpoint, description: 'Base URL of the order API' });
  }
}
