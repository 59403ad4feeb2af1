import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones/index.js';
import { DataAwsVpc } from '@cdktf/provider-aws/lib/data-aws-vpc/index.js';
import { Eip } from '@cdktf/provider-aws/lib/eip/index.js';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway/index.js';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway/index.js';
import { Route } from '@cdktf/provider-aws/lib/route/index.js';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table/index.js';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association/index.js';
import { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint/index.js';
import { Fn, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { ExistingNetwork } from '../../config/aws-config.js';

export interface NetworkProps {
  /** Prefix of every name, e.g. `selfmx-prod`. */
  readonly prefix: string;
  readonly region: string;
  /** Deploy into this VPC and these subnets instead of creating a VPC. */
  readonly existing?: ExistingNetwork;
  /** CIDR of the created VPC. @default 10.40.0.0/16 */
  readonly cidr?: string;
  /** One NAT gateway per AZ (survives an AZ outage) or a single one (cheaper). @default true */
  readonly natPerAz?: boolean;
}

const AZ_COUNT = 2;

/**
 * The VPC: public subnets for the load balancer, private subnets for RDS and the tasks, in 2 AZs.
 * Tasks reach ECR, Secrets Manager, CloudWatch Logs and the SMTP relay through NAT gateways
 * (VPC interface endpoints would cover the AWS APIs but not an external SMTP relay); a free S3
 * gateway endpoint keeps image layer downloads off the NAT.
 */
export class Network extends Construct {
  readonly vpcId: string;
  /** The VPC's address range: the load balancer's requests come from inside it. */
  readonly cidrBlock: string;
  readonly privateSubnetIds: string[];
  readonly publicSubnetIds: string[];
  /** The private subnets' routes out: tasks can pull images and read secrets once these exist. */
  readonly egress: ITerraformDependable[] = [];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.existing) {
      this.vpcId = props.existing.vpcId;
      this.cidrBlock = new DataAwsVpc(this, 'existing-vpc', { id: this.vpcId }).cidrBlock;
      this.privateSubnetIds = [...props.existing.privateSubnetIds];
      this.publicSubnetIds = [...props.existing.publicSubnetIds];
      return;
    }
    const { prefix } = props;
    const cidr = props.cidr ?? '10.40.0.0/16';
    const vpc = new Vpc(this, 'vpc', {
      cidrBlock: cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: prefix },
    });
    this.vpcId = vpc.id;
    this.cidrBlock = cidr;
    const zones = new DataAwsAvailabilityZones(this, 'zones', { state: 'available' });
    const igw = new InternetGateway(this, 'igw', { vpcId: vpc.id, tags: { Name: prefix } });

    const publicRoutes = new RouteTable(this, 'public-routes', {
      vpcId: vpc.id,
      tags: { Name: `${prefix}-public` },
    });
    new Route(this, 'public-default', {
      routeTableId: publicRoutes.id,
      destinationCidrBlock: '0.0.0.0/0',
      gatewayId: igw.id,
    });

    const publicSubnets: Subnet[] = [];
    const privateRouteTables: RouteTable[] = [];
    this.privateSubnetIds = [];
    for (let az = 0; az < AZ_COUNT; az++) {
      const availabilityZone = Fn.element(zones.names, az);
      const publicSubnet = new Subnet(this, `public-${az}`, {
        vpcId: vpc.id,
        availabilityZone,
        cidrBlock: Fn.cidrsubnet(cidr, 4, az),
        mapPublicIpOnLaunch: false,
        tags: { Name: `${prefix}-public-${az}`, Tier: 'public' },
      });
      new RouteTableAssociation(this, `public-${az}-routes`, {
        subnetId: publicSubnet.id,
        routeTableId: publicRoutes.id,
      });
      publicSubnets.push(publicSubnet);

      const privateSubnet = new Subnet(this, `private-${az}`, {
        vpcId: vpc.id,
        availabilityZone,
        cidrBlock: Fn.cidrsubnet(cidr, 4, 8 + az),
        tags: { Name: `${prefix}-private-${az}`, Tier: 'private' },
      });
      const privateRoutes = new RouteTable(this, `private-${az}-routes`, {
        vpcId: vpc.id,
        tags: { Name: `${prefix}-private-${az}` },
      });
      new RouteTableAssociation(this, `private-${az}-routes-association`, {
        subnetId: privateSubnet.id,
        routeTableId: privateRoutes.id,
      });
      privateRouteTables.push(privateRoutes);
      this.privateSubnetIds.push(privateSubnet.id);
    }
    this.publicSubnetIds = publicSubnets.map((subnet) => subnet.id);

    const natCount = (props.natPerAz ?? true) ? AZ_COUNT : 1;
    const nats = publicSubnets.slice(0, natCount).map((subnet, az) => {
      const eip = new Eip(this, `nat-${az}-ip`, {
        domain: 'vpc',
        tags: { Name: `${prefix}-nat-${az}` },
      });
      return new NatGateway(this, `nat-${az}`, {
        allocationId: eip.allocationId,
        subnetId: subnet.id,
        tags: { Name: `${prefix}-nat-${az}` },
        dependsOn: [igw],
      });
    });
    privateRouteTables.forEach((table, az) => {
      const nat = nats[Math.min(az, nats.length - 1)];
      const route = new Route(this, `private-${az}-default`, {
        routeTableId: table.id,
        destinationCidrBlock: '0.0.0.0/0',
        natGatewayId: nat?.id,
      });
      this.egress.push(route);
    });
    const s3 = new VpcEndpoint(this, 's3-endpoint', {
      vpcId: vpc.id,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: privateRouteTables.map((table) => table.id),
      tags: { Name: `${prefix}-s3` },
    });

    this.egress.push(s3);
  }
}
