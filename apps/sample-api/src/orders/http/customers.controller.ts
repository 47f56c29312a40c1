import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProperty,
  ApiTags,
  ApiUnauthorizedResponse,
} from '../../openapi.js';
import { Matches } from 'class-validator';
import { Scopes } from '@infrastructure/security';
import { CustomerSummaries } from '../application/ports/customer-summaries.js';
import { CUSTOMER_ID_MESSAGE, CUSTOMER_ID_PATTERN } from './orders.dto.js';

/** Path of the customer routes: the same rule as `PlaceOrderDto.customerId`. */
export class CustomerParams {
  @ApiProperty({ pattern: CUSTOMER_ID_PATTERN.source, example: 'cust-42' })
  @Matches(CUSTOMER_ID_PATTERN, { message: CUSTOMER_ID_MESSAGE })
  customerId!: string;
}

/** A customer's order summary (read model, eventually consistent). */
export class OrderSummaryDto {
  @ApiProperty() customerId!: string;
  @ApiProperty() ordersCount!: number;
  @ApiProperty() totalCents!: number;
  @ApiProperty() lastOrderId!: string;
  @ApiProperty({ format: 'date-time' }) lastOrderAt!: string;
}

@ApiTags('orders')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No or invalid bearer token (WWW-Authenticate says why).' })
@ApiForbiddenResponse({ description: 'The token lacks the orders:read scope.' })
@Controller('v1/customers')
export class CustomersController {
  constructor(private readonly summaries: CustomerSummaries) {}

  @Get(':customerId/order-summary')
  @Scopes('orders:read')
  @ApiOkResponse({ type: OrderSummaryDto })
  @ApiNotFoundResponse({ description: 'No order projected for this customer yet.' })
  async summary(@Param() { customerId }: CustomerParams): Promise<OrderSummaryDto> {
    const summary = await this.summaries.find(customerId);
    if (!summary) throw new NotFoundException(`No orders projected for customer ${customerId}`);
    return { ...summary, lastOrderAt: summary.lastOrderAt.toISOString() };
  }
}
