import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiUnauthorizedResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { OrderEntity } from './order.entity.js';
import { toEnvelope } from '@infrastructure/messaging';
import { Scopes } from '@infrastructure/security';
import {
  CancelOrderDto,
  ListOrdersQuery,
  OrderDto,
  OrderEventDto,
  OrderPageDto,
  PlaceOrderDto,
} from './orders.dto.js';
import { OrdersService, toView } from './orders.service.js';

const toDto = (order: OrderEntity): OrderDto => toView(order);

/** The `:id` of an order: a UUID (ParseUUIDPipe answers anything else with 400). */
const OrderIdParam = () => ApiParam({ name: 'id', type: 'string', format: 'uuid' });

/** Orders API (auth and scopes arrive with the security lib). */
@ApiTags('orders')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No or invalid bearer token (WWW-Authenticate says why).' })
@ApiForbiddenResponse({ description: 'The token lacks the scope (orders:read / orders:write).' })
@Controller('v1/orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @Scopes('orders:write')
  @ApiCreatedResponse({ type: OrderDto })
  @ApiBadRequestResponse({ description: 'Invalid order (problem+json with one entry per field).' })
  async place(@Body() body: PlaceOrderDto): Promise<OrderDto> {
    return toDto(await this.orders.place(body));
  }

  @Post(':id/cancel')
  @Scopes('orders:write')
  @HttpCode(200)
  @OrderIdParam()
  @ApiOkResponse({ type: OrderDto })
  @ApiNotFoundResponse({ description: 'No such order.' })
  @ApiConflictResponse({ description: 'Cancelled already, or changed concurrently.' })
  async cancel(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: CancelOrderDto,
  ): Promise<OrderDto> {
    return toDto(await this.orders.cancel(id, body.reason));
  }

  @Get(':id/events')
  @Scopes('orders:read')
  @OrderIdParam()
  @ApiOkResponse({ type: [OrderEventDto] })
  @ApiNotFoundResponse({ description: 'No such order.' })
  async events(@Param('id', new ParseUUIDPipe()) id: string): Promise<OrderEventDto[]> {
    const events = await this.orders.events(id);
    if (events.length === 0) throw new NotFoundException(`Order ${id} does not exist`);
    return events.map(({ event, version, position }) => {
      const envelope = toEnvelope(event);
      return {
        version,
        position,
        type: envelope.type,
        id: envelope.id,
        occurredAt: envelope.occurredAt,
        payload: envelope.payload,
      };
    });
  }

  @Get(':id')
  @Scopes('orders:read')
  @OrderIdParam()
  @ApiOkResponse({ type: OrderDto })
  @ApiNotFoundResponse({ description: 'No such order.' })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<OrderDto> {
    const order = await this.orders.view(id); // cached
    if (!order) throw new NotFoundException(`Order ${id} does not exist`);
    return order;
  }

  @Get()
  @Scopes('orders:read')
  @ApiOkResponse({ type: OrderPageDto })
  async list(@Query() query: ListOrdersQuery): Promise<OrderPageDto> {
    try {
      const page = await this.orders.list(query.cursor, query.limit);
      return {
        items: page.items.map(toDto),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    } catch (error) {
      if (error instanceof RangeError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}
