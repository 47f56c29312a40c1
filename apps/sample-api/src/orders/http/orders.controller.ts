import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
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
} from '../../openapi.js';
import { Scopes } from '@infrastructure/security';
import { CancelOrder } from '../application/cancel-order.use-case.js';
import { PlaceOrder } from '../application/place-order.use-case.js';
import { OrderViews } from '../application/ports/order-views.js';
import { OrderNotFoundError } from '../domain/order.errors.js';
import {
  CancelOrderDto,
  ListOrdersQuery,
  OrderDto,
  OrderEventDto,
  OrderPageDto,
  PlaceOrderDto,
} from './orders.dto.js';

/** The `:id` of an order: a UUID (ParseUUIDPipe answers anything else with 400). */
const OrderIdParam = () => ApiParam({ name: 'id', type: 'string', format: 'uuid' });

/** Orders API (auth and scopes arrive with the security lib). */
@ApiTags('orders')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No or invalid bearer token (WWW-Authenticate says why).' })
@ApiForbiddenResponse({ description: 'The token lacks the scope (orders:read / orders:write).' })
@Controller('v1/orders')
export class OrdersController {
  constructor(
    private readonly placeOrder: PlaceOrder,
    private readonly cancelOrder: CancelOrder,
    private readonly orders: OrderViews,
  ) {}

  @Post()
  @Scopes('orders:write')
  @ApiCreatedResponse({ type: OrderDto })
  @ApiBadRequestResponse({ description: 'Invalid order (problem+json with one entry per field).' })
  async place(@Body() body: PlaceOrderDto): Promise<OrderDto> {
    return this.placeOrder.execute(body);
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
    return this.cancelOrder.execute(id, body.reason);
  }

  @Get(':id/events')
  @Scopes('orders:read')
  @OrderIdParam()
  @ApiOkResponse({ type: [OrderEventDto] })
  @ApiNotFoundResponse({ description: 'No such order.' })
  async events(@Param('id', new ParseUUIDPipe()) id: string): Promise<OrderEventDto[]> {
    const events = await this.orders.history(id);
    if (events.length === 0) throw new OrderNotFoundError(id);
    return events;
  }

  @Get(':id')
  @Scopes('orders:read')
  @OrderIdParam()
  @ApiOkResponse({ type: OrderDto })
  @ApiNotFoundResponse({ description: 'No such order.' })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<OrderDto> {
    const order = await this.orders.find(id); // cached
    if (!order) throw new OrderNotFoundError(id);
    return order;
  }

  @Get()
  @Scopes('orders:read')
  @ApiOkResponse({ type: OrderPageDto })
  async list(@Query() query: ListOrdersQuery): Promise<OrderPageDto> {
    try {
      const page = await this.orders.list(query.cursor, query.limit);
      return {
        items: page.items,
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    } catch (error) {
      if (error instanceof RangeError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}
